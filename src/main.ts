import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TokenConfigError } from './api/auth.js';
import { loadOrCreateToken, tokenOrigin } from './api/token.js';
import { applyCodeTasks, openDeployment, runMain, startApi, startWorker } from './boot/deployment.js';
import { ensureRetention } from './client.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { resolveTemporalCli, TemporalCliNotFoundError } from './temporal/cli.js';
import { startDevServer, type DevServer } from './temporal/dev-server.js';
import { onShutdownSignal } from './util/shutdown.js';

/** Starts the embedded Temporal dev server, persisted in the data dir. */
async function startEmbeddedServer(
  config: ReturnType<typeof loadConfig>,
  dataDir: string,
  logger: ReturnType<typeof createLogger>,
): Promise<DevServer> {
  const executable = await resolveTemporalCli({ env: process.env });
  logger.info(
    { source: executable.source, ...(executable.kind === 'path' ? { path: executable.path } : {}) },
    'Temporal CLI found',
  );
  return startDevServer({
    executable,
    dbFile: join(dataDir, 'temporal.db'),
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    namespace: config.TEMPORAL_NAMESPACE,
    logFile: join(dataDir, 'temporal.log'),
    pidFile: join(dataDir, 'temporal.pid'),
  });
}

/**
 * `npm start`: the all-in-one embedded mode. Starts a Temporal dev server persisted in the data dir (unless
 * `TEMPORAL_ADDRESS` points at a cluster), then the worker, the tasks declared in code and the HTTP API in this
 * process. SIGINT/SIGTERM drain the worker, then stop the server.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const dataDir = resolve(config.SURECRON_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });
  const devServer = config.TEMPORAL_ADDRESS ? undefined : await startEmbeddedServer(config, dataDir, logger);
  try {
    const deployment = await openDeployment({ config, logger, ...(devServer ? { address: devServer.address } : {}) });
    if (devServer) await ensureRetention(deployment.client, config.SURECRON_RETENTION_DAYS);
    const worker = await startWorker(deployment);
    // Changes are audited workflows, so tasks in code are applied once the worker runs.
    logger.info(await applyCodeTasks(deployment), 'tasks in code applied');
    const token = loadOrCreateToken(dataDir, config.SURECRON_API_TOKEN);
    const app = await startApi(deployment, { token: token.token });

    const api = `http://${config.SURECRON_API_HOST}:${config.SURECRON_API_PORT}`;
    const lines = [
      '',
      `surecron is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  API       ${api}   (ready: ${api}/readyz)`,
      `  API docs  ${api}/docs`,
      devServer?.uiUrl
        ? `  Web UI    ${devServer.uiUrl}/namespaces/${config.TEMPORAL_NAMESPACE}/schedules`
        : `  Temporal  ${deployment.address}`,
      `  API token ${tokenOrigin(token)}`,
      '  Ctrl-C to stop',
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);

    let stopping: Promise<void> | undefined;
    const shutdown = (): Promise<void> =>
      (stopping ??= (async () => {
        logger.info('shutting down: closing the API, draining the worker');
        await app.close();
        await worker.stop();
        await deployment.client.connection.close();
        await devServer?.stop();
        logger.info('stopped');
      })());
    onShutdownSignal(shutdown);
    await worker.running.catch(() => undefined);
    await shutdown();
  } catch (error) {
    await devServer?.stop();
    throw error;
  }
}

runMain(
  'surecron',
  main,
  (error) =>
    error instanceof ConfigError || error instanceof TemporalCliNotFoundError || error instanceof TokenConfigError,
);
