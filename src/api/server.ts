import { connectClient } from '../client.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { temporalReadiness } from '../readiness.js';
import { taskRules } from '../tasks/rules.js';
import { TaskService } from '../tasks/service.js';
import { TaskStore } from '../tasks/store.js';
import { isMain } from '../util/is-main.js';
import { onShutdownSignal } from '../util/shutdown.js';
import { buildApp } from './app.js';
import { TokenConfigError } from './auth.js';

/** Production entry point (`npm run start:api`): the HTTP API against `TEMPORAL_ADDRESS`; needs `SURECRON_API_TOKEN`. */
async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.SURECRON_API_TOKEN)
    throw new ConfigError('SURECRON_API_TOKEN must be set: the API never runs without auth', 'SURECRON_API_TOKEN');
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const client = await connectClient({ address, namespace: config.TEMPORAL_NAMESPACE });
  const app = await buildApp({
    service: new TaskService(client, new TaskStore(client, config.SURECRON_TASK_QUEUE)),
    rules: taskRules(config.SURECRON_HTTP_ALLOWLIST),
    logger,
    apiToken: config.SURECRON_API_TOKEN,
    namedTokens: config.SURECRON_API_TOKENS,
    readiness: temporalReadiness(client, config.SURECRON_TASK_QUEUE, config.SURECRON_CLUSTER_FILE),
    rateLimitPerMinute: config.SURECRON_API_RATE_LIMIT,
  });
  await app.listen({ host: config.SURECRON_API_HOST, port: config.SURECRON_API_PORT });
  onShutdownSignal(async () => {
    await app.close();
    await client.connection.close();
  });
}

if (isMain(import.meta.url)) {
  main().catch((error: unknown) => {
    const known = error instanceof ConfigError || error instanceof TokenConfigError;
    process.stderr.write(`surecron api: ${known ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  });
}
