import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createActivities } from './activities/index.js';
import { createHandlers } from './activities/handlers/index.js';
import { createHttpGuard } from './activities/http-guard.js';
import type { HandlerRegistry } from './activities/handler.js';
import { createChangeActivities } from './activities/task-changes.js';
import { TaskStore } from './tasks/store.js';
import { createOrderActivities, RecordingOrderSystems, type OrderSystems } from './activities/orders.js';
import { connectClient, ensureSearchAttributes } from './client.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { installRuntimeLogger } from './temporal/runtime-logger.js';
import { isMain } from './util/is-main.js';
import { attemptFailedSignal } from './workflows/run-task.js';
import { onShutdownSignal } from './util/shutdown.js';

/** Source of the workflow code in development and tests; production uses a pre-built bundle. */
export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

export interface SurecronWorkerOptions {
  connection: NativeConnection;
  /** Used by the activities that carry out task changes (schedules, manual runs). */
  client: Client;
  namespace: string;
  taskQueue: string;
  logger: Logger;
  handlers?: HandlerRegistry;
  orderSystems?: OrderSystems;
  httpAllowlist?: string;
  /** A bundle from `npm run build:bundle`; without it, workflows are bundled from source at start-up. */
  workflowBundlePath?: string;
  /** Passed through to the Temporal Worker (tests shorten shutdown, tune concurrency). */
  workerOptions?: Partial<WorkerOptions>;
}

/** Creates the surecron worker: `runTask` and the user workflows, with the handler activities. */
export function createSurecronWorker(options: SurecronWorkerOptions): Promise<Worker> {
  const activities = {
    ...createActivities({
      handlers: options.handlers ?? createHandlers(),
      logger: options.logger,
      http: createHttpGuard(options.httpAllowlist),
      reportAttempt: (workflowId, failure) =>
        options.client.workflow.getHandle(workflowId).signal(attemptFailedSignal, failure),
    }),
    ...createOrderActivities(options.orderSystems ?? new RecordingOrderSystems()),
    ...createChangeActivities({ client: options.client, store: new TaskStore(options.client, options.taskQueue) }),
  };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath }),
    shutdownGraceTime: '30s',
    ...options.workerOptions,
  });
}

/** Production entry point (`npm run start:worker`): connects to `TEMPORAL_ADDRESS` and polls until signalled. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  installRuntimeLogger(logger.child({ component: 'temporal' }));
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const client = await connectClient({ address, namespace: config.TEMPORAL_NAMESPACE });
  await ensureSearchAttributes(client);
  const connection = await NativeConnection.connect({ address });
  const worker = await createSurecronWorker({
    connection,
    client,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.SURECRON_TASK_QUEUE,
    logger,
    httpAllowlist: config.SURECRON_HTTP_ALLOWLIST,
    workflowBundlePath: config.SURECRON_WORKFLOW_BUNDLE,
  });
  onShutdownSignal(() => worker.getState() === 'RUNNING' && worker.shutdown());
  logger.info({ address, taskQueue: config.SURECRON_TASK_QUEUE }, 'worker polling');
  await worker.run();
  await connection.close();
  await client.connection.close();
  logger.info('worker stopped');
}

if (isMain(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`surecron worker: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  });
}
