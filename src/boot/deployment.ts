import { JwtVerifier, jwtConfigOf } from '../api/jwt.js';
import { parseDuration } from '../tasks/duration.js';
import type { Client } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { UserCode } from '../activities/user-code.js';
import { buildApp } from '../api/app.js';
import { connectClient, ensureSearchAttributes } from '../client.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger } from '../logger.js';
import { applyTasks, type ApplyResult } from '../tasks/apply.js';
import { taskRules } from '../tasks/rules.js';
import { TaskService } from '../tasks/service.js';
import { TaskStore } from '../tasks/store.js';
import { validateTask, type TaskRules } from '../tasks/validate.js';
import { temporalReadiness } from '../temporal/readiness.js';
import { userCode } from '../user/index.js';
import { setUpWorkerRuntime } from '../worker-runtime.js';
import { createSurecronWorker, prepareTaskQueue } from './worker.js';

/** What every entry point works with: the configuration, a client on its Temporal, its tasks and rules. */
export interface Deployment {
  config: Config;
  logger: Logger;
  address: string;
  client: Client;
  store: TaskStore;
  service: TaskService;
  rules: TaskRules;
  code: UserCode;
}

/** The rules a deployment checks tasks against: the user code's handlers and workflows, the http allow-list. */
export function deploymentRules(
  config: Pick<Config, 'SURECRON_HTTP_ALLOWLIST'>,
  code: Pick<UserCode, 'handlers' | 'workflowNames'>,
): TaskRules {
  return taskRules(
    { functions: Object.keys(code.handlers), workflows: code.workflowNames },
    config.SURECRON_HTTP_ALLOWLIST,
  );
}

/**
 * Loads the configuration and connects to Temporal: `address` (an embedded server), else `TEMPORAL_ADDRESS`, else
 * the local default port.
 * @throws {ConfigError} naming the variable that is wrong.
 */
export async function openDeployment(
  options: { address?: string; config?: Config; logger?: Logger; code?: UserCode } = {},
): Promise<Deployment> {
  const config = options.config ?? loadConfig();
  const logger =
    options.logger ?? createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const address = options.address ?? config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const code = options.code ?? userCode;
  const client = await connectClient({ address, namespace: config.TEMPORAL_NAMESPACE });
  const store = new TaskStore(client, config.SURECRON_TASK_QUEUE);
  return {
    config,
    logger,
    address,
    client,
    store,
    service: new TaskService(client, store),
    rules: deploymentRules(config, code),
    code,
  };
}

/**
 * Reconciles the tasks declared in code into the deployment's schedules: created, updated, and (with `prune`,
 * the default) deleted when no longer declared. Each change is an audited `taskChange` workflow, so a worker must
 * poll the task queue.
 * @throws {TaskValidationError} when a declared task is invalid; nothing is applied then.
 */
export function applyCodeTasks(
  deployment: Deployment,
  { prune = true }: { prune?: boolean } = {},
): Promise<ApplyResult> {
  const specs = deployment.code.tasks.map((task) => validateTask(task, deployment.rules));
  return applyTasks(deployment.service.writer('code'), specs, { prune });
}

/** A worker of the deployment, polling. */
export interface RunningWorker {
  worker: Worker;
  /** Settles when the worker has stopped. */
  running: Promise<void>;
  /** Drains the worker and closes its connections and metrics endpoint. */
  stop(): Promise<void>;
}

/**
 * Registers surecron's search attributes, sets up the worker runtime (logs, metrics, alert channels), starts the
 * worker and prepares its task queue.
 */
export async function startWorker(deployment: Deployment): Promise<RunningWorker> {
  const { config, logger, client, address } = deployment;
  await ensureSearchAttributes(client);
  const runtime = await setUpWorkerRuntime(config, logger);
  const connection = await NativeConnection.connect({ address });
  const worker = await createSurecronWorker({
    connection,
    client,
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.SURECRON_TASK_QUEUE,
    logger,
    handlers: deployment.code.handlers,
    userActivities: deployment.code.activities,
    httpAllowlist: config.SURECRON_HTTP_ALLOWLIST,
    workflowBundlePath: config.SURECRON_WORKFLOW_BUNDLE,
    alerts: runtime.alerts,
    metrics: runtime.metrics,
    deadLetterAlertAfterMs: parseDuration(config.SURECRON_DEAD_LETTER_ALERT_AFTER) ?? 0,
    ...(config.SURECRON_CALLBACK_SECRET ? { callbackSecret: config.SURECRON_CALLBACK_SECRET } : {}),
  });
  const running = worker.run();
  await prepareTaskQueue(client, config.SURECRON_TASK_QUEUE);
  let stopping: Promise<void> | undefined;
  return {
    worker,
    running,
    stop: () =>
      (stopping ??= (async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch((error: unknown) => logger.error({ err: error }, 'worker stopped with an error'));
        await connection.close();
        await runtime.metricsServer?.close();
      })()),
  };
}

/** Builds the HTTP API of the deployment and listens on `SURECRON_API_HOST:SURECRON_API_PORT`. */
export async function startApi(deployment: Deployment, { token }: { token: string }) {
  const { config } = deployment;
  const jwt = jwtConfigOf(config);
  const app = await buildApp({
    service: deployment.service,
    rules: deployment.rules,
    logger: deployment.logger,
    apiToken: token,
    namedTokens: config.SURECRON_API_TOKENS,
    ...(jwt ? { jwt: new JwtVerifier(jwt) } : {}),
    readiness: temporalReadiness(deployment.client, config.SURECRON_TASK_QUEUE, config.SURECRON_CLUSTER_FILE),
    rateLimitPerMinute: config.SURECRON_API_RATE_LIMIT,
    clusterStartRate: config.SURECRON_CLUSTER_START_RATE,
  });
  await app.listen({ host: config.SURECRON_API_HOST, port: config.SURECRON_API_PORT });
  return app;
}

/**
 * Runs an entry point: an error the user can fix (a `known` one) prints as one line, anything else with its
 * stack; either exits 1.
 */
export function runMain(name: string, main: () => Promise<void>, known: (error: unknown) => boolean): void {
  main().catch((error: unknown) => {
    const message = known(error) ? (error as Error).message : ((error as Error).stack ?? String(error));
    process.stderr.write(`${name}: ${message}\n`);
    process.exit(1);
  });
}
