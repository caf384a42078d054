import { connectClient } from '../client.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { temporalReadiness } from '../readiness.js';
import { TaskStore } from '../tasks/store.js';
import { isMain } from '../util/is-main.js';
import { onShutdownSignal } from '../util/shutdown.js';
import { buildApp } from './app.js';

/** Production entry point (`npm run start:api`): the HTTP API against `TEMPORAL_ADDRESS`; needs `SURECRON_API_TOKEN`. */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.SURECRON_API_TOKEN)
    throw new ConfigError('SURECRON_API_TOKEN must be set: the API never runs without auth', 'SURECRON_API_TOKEN');
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const client = await connectClient({ address, namespace: config.TEMPORAL_NAMESPACE });
  const app = await buildApp({
    store: new TaskStore(client, config.SURECRON_TASK_QUEUE),
    logger,
    apiToken: config.SURECRON_API_TOKEN,
    readiness: temporalReadiness(client, config.SURECRON_TASK_QUEUE),
  });
  await app.listen({ host: config.SURECRON_API_HOST, port: config.SURECRON_API_PORT });
  onShutdownSignal(async () => {
    await app.close();
    await client.connection.close();
  });
}

if (isMain(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`surecron api: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  });
}
