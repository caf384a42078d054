import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import {
  bundleWorkflowCode,
  type NativeConnection,
  Worker,
  type InjectedSinks,
  type WorkerOptions,
} from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createAlertActivities } from '../activities/alerts.js';
import { createCallbackActivities } from '../activities/callbacks.js';
import { createCircuitGate } from '../activities/circuit-gate.js';
import type { HandlerRegistry } from '../activities/handler.js';
import { createRunHandlerActivities } from '../activities/run-handler.js';
import { createGroupActivities } from '../activities/groups.js';
import { createChangeActivities } from '../activities/task-changes.js';
import type { UserActivity } from '../activities/user-code.js';
import { createWatchdogActivities, WATCHDOG_INTERVAL_MS } from '../activities/watchdog.js';
import type { AlertsConfig } from '../alerting/channels/config.js';
import { deliver } from '../alerting/channels/index.js';
import { createAlertRouter } from '../alerting/router.js';
import { ATTEMPT_FAILED_SIGNAL, type AttemptFailure } from '../contract/run.js';
import { WATCHDOG_SCHEDULE_ID, workflowTypes } from '../contract/workflow-types.js';
import { registerCircuitGauge } from '../metrics/circuit-metrics.js';
import type { AttemptStarted, TaskMetrics } from '../metrics/task-metrics.js';
import { listCircuits } from '../runs/circuits.js';
import { createHttpGuard } from '../security/http-guard.js';
import { TaskStore } from '../tasks/store.js';
import { silentSdkLogger } from '../temporal/runtime-logger.js';
import { userCode } from '../user/index.js';
import type { SurecronSinks } from '../workflows/sinks.js';

/** Source of the workflow code (surecron's and yours) in development and tests; production uses a pre-built bundle. */
export const workflowsPath = fileURLToPath(new URL('./workflows.ts', import.meta.url));

/**
 * Bundles workflow code (surecron's unless told otherwise) once into `outPath`, for workers started with
 * `SURECRON_WORKFLOW_BUNDLE`: each then starts in seconds instead of bundling itself. Returns the bundle's size.
 */
export async function writeWorkflowBundle(outPath: string, sourcePath = workflowsPath): Promise<number> {
  const { code } = await bundleWorkflowCode({ workflowsPath: sourcePath, logger: silentSdkLogger });
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
  /** Function handlers tasks may name; default: yours (`src/user/`). */
  handlers?: HandlerRegistry;
  /** Activities of user workflows; default: yours (`src/user/`). */
  userActivities?: Readonly<Record<string, UserActivity>>;
  httpAllowlist?: string;
  /** A bundle from `npm run build:bundle`; without it, workflows are bundled from source at start-up. */
  workflowBundlePath?: string;
  /** Alert channels and routes; none configured: alerts are admitted and counted but go nowhere. */
  alerts?: AlertsConfig;
  /** Signs `notify` callbacks. */
  callbackSecret?: string;
  metrics?: TaskMetrics;
  /** `SURECRON_DEAD_LETTER_ALERT_AFTER` in ms (0 or unset: no such alert). */
  deadLetterAlertAfterMs?: number;
  /** Passed through to the Temporal Worker (tests shorten shutdown, tune concurrency). */
  workerOptions?: Partial<WorkerOptions>;
}

/** Creates the surecron worker: `runTask` and the user workflows, with the handler activities. */
export function createSurecronWorker(options: SurecronWorkerOptions): Promise<Worker> {
  const http = createHttpGuard(options.httpAllowlist);
  const store = new TaskStore(options.client, options.taskQueue);
  const { metrics } = options;
  if (metrics) registerCircuitGauge(metrics.registry, () => listCircuits(options.client, options.taskQueue));
  const activities = {
    ...createRunHandlerActivities({
      handlers: options.handlers ?? userCode.handlers,
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
        options.client.workflow.getHandle(workflowId).signal<[AttemptFailure]>(ATTEMPT_FAILED_SIGNAL, failure),
      circuits: createCircuitGate({
        client: options.client,
        taskQueue: options.taskQueue,
        logger: options.logger.child({ component: 'circuits' }),
      }),
    }),
    ...(options.userActivities ?? userCode.activities),
    ...createChangeActivities({ client: options.client, store }),
    ...createGroupActivities({ client: options.client }),
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
      ...(options.deadLetterAlertAfterMs ? { deadLetterAlertAfterMs: options.deadLetterAlertAfterMs } : {}),
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
        workflowType: workflowTypes.watchdog,
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
