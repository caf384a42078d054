import { ConfigError } from './config.js';
import { openDeployment, runMain, startWorker } from './boot/deployment.js';
import { isMain } from './util/is-main.js';
import { onShutdownSignal } from './util/shutdown.js';

/** Production entry point (`npm run start:worker`): connects to `TEMPORAL_ADDRESS` and polls until signalled. */
async function main(): Promise<void> {
  const deployment = await openDeployment();
  const { logger, config, address } = deployment;
  // A signal during start-up stops the worker as soon as it is up.
  const stopRequested = new Promise<void>((resolve) => onShutdownSignal(resolve));
  const worker = await startWorker(deployment);
  logger.info({ address, taskQueue: config.SURECRON_TASK_QUEUE }, 'worker polling');
  await Promise.race([worker.running.catch(() => undefined), stopRequested]);
  await worker.stop();
  await deployment.client.connection.close();
  logger.info('worker stopped');
}

if (isMain(import.meta.url)) runMain('surecron worker', main, (error) => error instanceof ConfigError);
