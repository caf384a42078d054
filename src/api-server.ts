import { TokenConfigError } from './api/auth.js';
import { openDeployment, runMain, startApi } from './boot/deployment.js';
import { ConfigError, loadConfig } from './config.js';
import { isMain } from './util/is-main.js';
import { onShutdownSignal } from './util/shutdown.js';

/** Production entry point (`npm run start:api`): the HTTP API against `TEMPORAL_ADDRESS`; needs `SURECRON_API_TOKEN`. */
async function main(): Promise<void> {
  const config = loadConfig();
  const token = config.SURECRON_API_TOKEN;
  if (!token)
    throw new ConfigError('SURECRON_API_TOKEN must be set: the API never runs without auth', 'SURECRON_API_TOKEN');
  const deployment = await openDeployment({ config });
  const app = await startApi(deployment, { token });
  onShutdownSignal(async () => {
    await app.close();
    await deployment.client.connection.close();
  });
}

if (isMain(import.meta.url)) {
  runMain('surecron api', main, (error) => error instanceof ConfigError || error instanceof TokenConfigError);
}
