import { ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { UserCode } from '../activities/user-code.js';
import { deploymentRules } from '../boot/deployment.js';
import { createSurecronWorker } from '../boot/worker.js';
import { formatInstant } from '../contract/run.js';
import { runDetail, type Attempt } from '../runs/run-detail.js';
import type { RunStatus } from '../runs/runs.js';
import { toRunInput } from '../tasks/schedule.js';
import type { TaskSpecInput } from '../tasks/spec.js';
import { startRunTask } from '../tasks/start-run.js';
import { validateTask } from '../tasks/validate.js';
import { userWorkflowBundle } from './bundle.js';

/** The user code a fire runs: handlers, workflow activities, workflows (its `tasks` are not needed). */
export type FireCode = Omit<UserCode, 'tasks'>;

export interface FireOptions {
  /** The task as declared, e.g. one of `userCode.tasks`; validated as `npm run apply` would. */
  task: TaskSpecInput;
  /** The fire time the run stands for, as a Schedule would pass it. */
  nominalTime: Date | string;
  /** Replaces the handler's `input` for this fire (function and workflow handlers). */
  input?: unknown;
  /** Hosts the task's `http` handler may call; default `127.0.0.1,localhost`. */
  httpAllowlist?: string;
  /** The worker's logger; default silent. */
  logger?: Logger;
}

/** How one fire ended, as surecron's API reports it. */
export interface FireOutcome {
  workflowId: string;
  nominalTime: string;
  status: RunStatus;
  /** Attempts the handler took (the successful one included). */
  attempts: number;
  /** Every attempt from the run's history, as `GET /v1/runs/:workflowId` lists them. */
  attemptsDetail: Attempt[];
  /** The handler's result, when the run succeeded. */
  result?: unknown;
  /** The handler's last failure, when the run failed. */
  error?: { message: string; type: string };
}

/** The handler failure below a failed run's `TaskRunFailed`. */
function handlerError(error: unknown): FireOutcome['error'] {
  if (!(error instanceof WorkflowFailedError)) throw error;
  const cause = error.cause?.cause instanceof Error ? error.cause.cause : error.cause;
  if (!cause) return { message: error.message, type: error.name };
  return {
    message: cause.message,
    type: cause instanceof ApplicationFailure ? (cause.type ?? cause.name) : cause.name,
  };
}

/**
 * Runs one fire of `task` the way its Schedule would at `nominalTime`: surecron's `runTask` workflow on a
 * surecron worker with `code` (its handlers and activities, a bundle of surecron's workflows and its workflows),
 * on a task queue of its own, retrying per the task's policy. Resolves when the run has ended.
 * @throws {TaskValidationError} when the task is invalid for `code` (an unknown handler, a bad schedule).
 */
export async function runFire(
  env: TestWorkflowEnvironment,
  code: FireCode,
  options: FireOptions,
): Promise<FireOutcome> {
  const spec = validateTask(options.task, deploymentRules({ SURECRON_HTTP_ALLOWLIST: options.httpAllowlist }, code));
  const { handler } = spec;
  const input = {
    ...toRunInput(spec),
    ...(options.input !== undefined && handler.type !== 'http'
      ? { handler: { ...handler, input: options.input } }
      : {}),
    nominalTime: formatInstant(new Date(options.nominalTime)),
    trigger: 'schedule' as const,
  };
  const taskQueue = `surecron-test-${randomUUID()}`;
  // The id its Schedule would give the fire, made unique so that fires of one test never meet.
  const workflowId = `${spec.id}-${input.nominalTime}-${randomUUID().slice(0, 8)}`;
  const worker = await createSurecronWorker({
    connection: env.nativeConnection,
    client: env.client,
    namespace: env.namespace ?? 'default',
    taskQueue,
    logger: options.logger ?? pino({ level: 'silent' }),
    handlers: code.handlers,
    userActivities: code.activities,
    httpAllowlist: options.httpAllowlist ?? '127.0.0.1,localhost',
    workflowBundlePath: await userWorkflowBundle(code.workflowsPath),
    workerOptions: { shutdownGraceTime: '1s', shutdownForceTime: '5s' },
  });
  return worker.runUntil(async () => {
    await startRunTask(env.client, { taskQueue, workflowId, input });
    const failure = await env.client.workflow
      .getHandle(workflowId)
      .result()
      .then(() => undefined, handlerError);
    const detail = await runDetail(env.client, workflowId);
    return {
      workflowId,
      nominalTime: detail.nominalTime,
      status: detail.status,
      attempts: detail.attempts,
      attemptsDetail: detail.attemptsDetail,
      ...(detail.status === 'succeeded' ? { result: detail.result } : {}),
      ...(failure ? { error: failure } : {}),
    };
  });
}
