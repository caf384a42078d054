import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import { WATCHDOG_SCHEDULE_ID } from './workflows/watchdog.js';
import {
  bundleWorkflowCode,
  NativeConnection,
  Worker,
  type InjectedSinks,
  type WorkerOptions,
} from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createAlertActivities } from './activities/alerts.js';
import { createCallbackActivities } from './activities/callbacks.js';
import { createWatchdogActivities, WATCHDOG_INTERVAL_MS } from './activities/watchdog.js';
import { deliver } from './alerting/channels/index.js';
import type { AlertsConfig } from './alerting/channels/config.js';
import { createAlertRouter } from './alerting/router.js';
import type { AttemptStarted, TaskMetrics } from './metrics/task-metrics.js';
import type { SurecronSinks } from './workflows/sinks.js';
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
import { setUpWorkerRuntime } from './worker-runtime.js';
import { isMain } from './util/is-main.js';
import { attemptFailedSignal } from './workflows/run-task.js';
import { onShutdownSignal } from './util/shutdown.js';

/** Source of the workflow code in development and tests; production uses a pre-built bundle. */
export const workflowsPath = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/**
 * Bundles workflow code (surecron's unless told otherwise) once into `outPath`, for workers started with
 * `SURECRON_WORKFLOW_BUNDLE`: each then starts in seconds instead of bundling itself. Returns the bundle's size.
 */
export async function writeWorkflowBundle(outPath: string, sourcePath = workflowsPath): Promise<number> {
  const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const { code } = await bundleWorkflowCode({ workflowsPath: sourcePath, logger: silent });
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, code);
  return Buffer.byteLength(code);
}

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
  /** Alert channels and routes; none configured: alerts are admitted and counted but go nowhere. */
  alerts?: AlertsConfig;
  /** Signs `notify` callbacks. */
  callbackSecret?: string;
  metrics?: TaskMetrics;
  /** Passed through to the Temporal Worker (tests shorten shutdown, tune concurrency). */
  workerOptions?: Partial<WorkerOptions>;
}

/** Creates the surecron worker: `runTask` and the user workflows, with the handler activities. */
export function createSurecronWorker(options: SurecronWorkerOptions): Promise<Worker> {
  const http = createHttpGuard(options.httpAllowlist);
  const store = new TaskStore(options.client, options.taskQueue);
  const { metrics } = options;
  const activities = {
    ...createActivities({
      handlers: options.handlers ?? createHandlers(),
      logger: options.logger,
      http,
      ...(metrics
        ? {
            onAttempt: (event: AttemptStarted) => {
              metrics.initTask(event.taskId);
              metrics.attemptStarted(event);
            },
          }
        : {}),
      reportAttempt: (workflowId, failure) =>
        options.client.workflow.getHandle(workflowId).signal(attemptFailedSignal, failure),
    }),
    ...createOrderActivities(options.orderSystems ?? new RecordingOrderSystems()),
    ...createChangeActivities({ client: options.client, store }),
    ...createAlertActivities({
      client: options.client,
      taskQueue: options.taskQueue,
      router: createAlertRouter(options.alerts ?? { channels: [] }, (channel, alert) => deliver(channel, alert)),
      logger: options.logger.child({ component: 'alerts' }),
      ...(metrics ? { metrics } : {}),
    }),
    ...createWatchdogActivities({
      client: options.client,
      store,
      ...(metrics ? { metrics } : {}),
    }),
    ...createCallbackActivities({ http, ...(options.callbackSecret ? { secret: options.callbackSecret } : {}) }),
  };
  const sinks: InjectedSinks<SurecronSinks> = {
    metrics: {
      runFinished: {
        fn: (_info, event) => metrics?.runFinished(event),
      },
    },
  };
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities,
    sinks,
    ...(options.workflowBundlePath ? { workflowBundle: { codePath: options.workflowBundlePath } } : { workflowsPath }),
    shutdownGraceTime: '30s',
    // After this, shutdown stops waiting for activities that ignore cancellation.
    shutdownForceTime: '45s',
    // A run whose worker died moves to another worker after this, instead of the SDK's 10 s default.
    stickyQueueScheduleToStartTimeout: '3s',
    ...options.workerOptions,
  });
}

/**
 * Makes sure the watchdog's own schedule exists: every 30 s it checks every task's runs against its spec. It is
 * not a task, so surecron's reconciliation never touches it.
 */
async function ensureWatchdog(client: Client, taskQueue: string): Promise<void> {
  try {
    await client.schedule.create({
      scheduleId: WATCHDOG_SCHEDULE_ID,
      spec: { intervals: [{ every: WATCHDOG_INTERVAL_MS }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'watchdog',
        workflowId: WATCHDOG_SCHEDULE_ID,
        taskQueue,
        args: [],
      },
      policies: { overlap: 'SKIP', catchupWindow: '1m' },
      state: { note: "surecron's dead-man's switch: checks every task's runs against its spec" },
    });
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
}

/**
 * Prepares a deployment's task queue at start-up: the watchdog's schedule exists, and tasks made by an older
 * surecron are indexed for listing.
 */
export async function prepareTaskQueue(client: Client, taskQueue: string): Promise<void> {
  await ensureWatchdog(client, taskQueue);
  await new TaskStore(client, taskQueue).indexLegacyTasks();
}

/** Production entry point (`npm run start:worker`): connects to `TEMPORAL_ADDRESS` and polls until signalled. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const runtime = await setUpWorkerRuntime(config, logger);
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
    alerts: runtime.alerts,
    metrics: runtime.metrics,
    ...(config.SURECRON_CALLBACK_SECRET ? { callbackSecret: config.SURECRON_CALLBACK_SECRET } : {}),
  });
  await prepareTaskQueue(client, config.SURECRON_TASK_QUEUE);
  onShutdownSignal(() => worker.getState() === 'RUNNING' && worker.shutdown());
  logger.info({ address, taskQueue: config.SURECRON_TASK_QUEUE }, 'worker polling');
  await worker.run();
  await connection.close();
  await client.connection.close();
  await runtime.metricsServer?.close();
  logger.info('worker stopped');
}

if (isMain(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`surecron worker: ${error instanceof ConfigError ? error.message : (error as Error).stack}\n`);
    process.exit(1);
  });
}
