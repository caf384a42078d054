import { NativeConnection } from '@temporalio/worker';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { buildApp } from './api/app.js';
import { TokenConfigError } from './api/auth.js';
import { loadOrCreateToken, tokenOrigin } from './api/token.js';
import { connectClient, ensureRetention, ensureSearchAttributes } from './client.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { temporalReadiness } from './readiness.js';
import { applyCodeTasks } from './apply.js';
import { taskRules } from './tasks/rules.js';
import { TaskService } from './tasks/service.js';
import { TaskStore } from './tasks/store.js';
import { resolveTemporalCli, TemporalCliNotFoundError } from './temporal/cli.js';
import { startDevServer, type DevServer } from './temporal/dev-server.js';
import { setUpWorkerRuntime } from './worker-runtime.js';
import { onShutdownSignal } from './util/shutdown.js';
import { createSurecronWorker, prepareTaskQueue } from './worker.js';

/**
 * `npm start`: the all-in-one embedded mode. Starts a Temporal dev server persisted in the data dir (unless
 * `TEMPORAL_ADDRESS` points at a cluster), applies the tasks declared in code, then runs the worker and the
 * HTTP API in this process. SIGINT/SIGTERM drain the worker, then stop the server.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const dataDir = resolve(config.SURECRON_DATA_DIR);
  mkdirSync(dataDir, { recursive: true });

  let devServer: DevServer | undefined;
  let address = config.TEMPORAL_ADDRESS;
  if (!address) {
    const executable = await resolveTemporalCli({ env: process.env });
    logger.info(
      { source: executable.source, ...(executable.kind === 'path' ? { path: executable.path } : {}) },
      'Temporal CLI found',
    );
    devServer = await startDevServer({
      executable,
      dbFile: join(dataDir, 'temporal.db'),
      port: config.TEMPORAL_PORT,
      uiPort: config.TEMPORAL_UI_PORT,
      namespace: config.TEMPORAL_NAMESPACE,
      logFile: join(dataDir, 'temporal.log'),
      pidFile: join(dataDir, 'temporal.pid'),
    });
    address = devServer.address;
  }
  const stopServer = async (): Promise<void> => devServer?.stop();

  try {
    const client = await connectClient({ address, namespace: config.TEMPORAL_NAMESPACE });
    await ensureSearchAttributes(client);
    if (devServer) await ensureRetention(client, config.SURECRON_RETENTION_DAYS);
    const store = new TaskStore(client, config.SURECRON_TASK_QUEUE);
    const service = new TaskService(client, store);
    const rules = taskRules(config.SURECRON_HTTP_ALLOWLIST);

    const runtime = await setUpWorkerRuntime(config, logger);
    const connection = await NativeConnection.connect({ address });
    const worker = await createSurecronWorker({
      connection,
      client,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue: config.SURECRON_TASK_QUEUE,
      logger,
      httpAllowlist: config.SURECRON_HTTP_ALLOWLIST,
      workflowBundlePath: config.SURECRON_WORKFLOW_BUNDLE,
      alerts: runtime.alerts,
      metrics: runtime.metrics,
      ...(config.SURECRON_CALLBACK_SECRET ? { callbackSecret: config.SURECRON_CALLBACK_SECRET } : {}),
    });
    const running = worker.run();
    await prepareTaskQueue(client, config.SURECRON_TASK_QUEUE);
    // Changes are audited workflows, so tasks in code are applied once the worker runs.
    const applied = await applyCodeTasks(client, config);
    logger.info(applied, 'tasks in code applied');

    const token = loadOrCreateToken(dataDir, config.SURECRON_API_TOKEN);
    const app = await buildApp({
      service,
      rules,
      logger,
      apiToken: token.token,
      namedTokens: config.SURECRON_API_TOKENS,
      readiness: temporalReadiness(client, config.SURECRON_TASK_QUEUE),
      rateLimitPerMinute: config.SURECRON_API_RATE_LIMIT,
    });
    await app.listen({ host: config.SURECRON_API_HOST, port: config.SURECRON_API_PORT });

    const api = `http://${config.SURECRON_API_HOST}:${config.SURECRON_API_PORT}`;
    const lines = [
      '',
      `surecron is running (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  API       ${api}   (ready: ${api}/readyz)`,
      `  API docs  ${api}/docs`,
      devServer?.uiUrl
        ? `  Web UI    ${devServer.uiUrl}/namespaces/${config.TEMPORAL_NAMESPACE}/schedules`
        : `  Temporal  ${address}`,
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
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch((error: unknown) => logger.error({ err: error }, 'worker stopped with an error'));
        await connection.close();
        await client.connection.close();
        await runtime.metricsServer?.close();
        await stopServer();
        logger.info('stopped');
      })());
    onShutdownSignal(shutdown);
    await running.catch(() => undefined);
    await shutdown();
  } catch (error) {
    await stopServer();
    throw error;
  }
}

main().catch((error: unknown) => {
  const known =
    error instanceof ConfigError || error instanceof TemporalCliNotFoundError || error instanceof TokenConfigError;
  process.stderr.write(`surecron: ${known ? error.message : ((error as Error).stack ?? String(error))}\n`);
  process.exit(1);
});
