import {
  ActivityFailure,
  ApplicationFailure,
  TemporalFailure,
  ChildWorkflowFailure,
  defineSignal,
  setHandler,
  executeChild,
  log,
  proxyActivities,
  proxyLocalActivities,
  sleep,
  patched,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { RunHandlerActivities, RunHandlerInput, RunHandlerOutput } from '../activities/run-handler.js';
import { CIRCUIT_OPEN, type CircuitWait } from '../contract/circuit.js';
import {
  ATTEMPT_FAILED_SIGNAL,
  formatInstant,
  TASK_RUN_FAILED,
  type AttemptFailure,
  type RunOutcome,
  type RunTaskInput,
  type RunTaskResult,
} from '../contract/run.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { GroupPermits } from './group-permits.js';
import { announceOutcome, previousStreak } from './run-outcome.js';
import { sinks } from './sinks.js';

export const attemptFailedSignal = defineSignal<[AttemptFailure]>(ATTEMPT_FAILED_SIGNAL);

function nominalTimeOf(input: RunTaskInput): Date {
  if (input.nominalTime) return new Date(input.nominalTime);
  const info = workflowInfo();
  return info.typedSearchAttributes.get(searchAttributeKeys.scheduledStartTime) ?? info.startTime;
}

/** The Schedule fired at a nominal time the task's DST policy leaves out (see `tasks/dst-corrections.ts`). */
function inDstSkip(skips: RunTaskInput['dstSkips'], nominal: Date): boolean {
  const at = nominal.getTime();
  return (skips ?? []).some(([from, to]) => at >= Date.parse(from) && at <= Date.parse(to));
}

/** How many attempts a failed handler took: reported by the activity, or inferred from the retry state. */
function failedAttempts(error: ActivityFailure | ChildWorkflowFailure, input: RunTaskInput): number {
  // The last attempt's failure may sit below a timeout failure (total timeout): walk the cause chain.
  for (let cause: unknown = error.cause; cause instanceof Error; cause = cause.cause) {
    if (!(cause instanceof ApplicationFailure)) continue;
    const detail = cause.details?.[0] as { attempt?: unknown } | undefined;
    if (typeof detail?.attempt === 'number') return detail.attempt;
  }
  return error.retryState === 'MAXIMUM_ATTEMPTS_REACHED' ? (input.activity.retry?.maximumAttempts ?? 1) : 1;
}

/** Whether a failed attempt may be retried under the task's policy. */
function retryable(error: ActivityFailure, retry: RetryPolicy | undefined): boolean {
  const cause = error.cause;
  if (!(cause instanceof ApplicationFailure)) return true;
  return !cause.nonRetryable && !(retry?.nonRetryableErrorTypes ?? []).includes(cause.type ?? '');
}

/**
 * Runs the handler's attempts. A task that runs locally (`localActivity`) makes its first attempt as a local
 * activity, inside this workflow task: a run that succeeds at once needs no activity task and one workflow task
 * fewer. A failed local attempt is recorded in its marker; the retries are then an ordinary activity's, numbered
 * from 2, after the policy's first backoff (or the handler's own delay, such as an http Retry-After).
 */
async function runHandlerOf(input: RunTaskInput, call: RunHandlerInput): Promise<RunHandlerOutput> {
  if (!input.localActivity) return proxyActivities<RunHandlerActivities>(input.activity).runHandler(call);
  const retry = input.activity.retry;
  const budget = attemptBudget(input);
  try {
    const local = proxyLocalActivities<RunHandlerActivities>({
      startToCloseTimeout: Number(input.activity.startToCloseTimeout),
      ...(budget.totalMs !== undefined ? { scheduleToCloseTimeout: budget.totalMs } : {}),
      retry: { maximumAttempts: 1 },
    });
    return await local.runHandler(call);
  } catch (thrown) {
    // A local activity's failure comes unwrapped (the handler's failure, or a timeout): wrap it as an activity's.
    const error =
      thrown instanceof TemporalFailure && !(thrown instanceof ActivityFailure)
        ? new ActivityFailure(thrown.message, 'runHandler', undefined, 'NON_RETRYABLE_FAILURE', undefined, thrown)
        : thrown;
    const maximum = retry?.maximumAttempts ?? 0;
    if (!(error instanceof ActivityFailure) || maximum === 1 || !retryable(error, retry)) throw error;
    const cause = error.cause instanceof ApplicationFailure ? error.cause : undefined;
    await sleep(cause?.nextRetryDelay ?? retry?.initialInterval ?? 1000);
    if (budget.leftMs() <= 0) throw error;
    return budget.runHandler(1)({ ...call, attemptsBefore: 1 });
  }
}

/**
 * What is left of a run's attempts and of its total timeout, counted from when its handler's first attempt began:
 * the handler's activity for the attempts after `attemptsBefore` (a first local attempt, attempts a breaker turned
 * away) gets only the rest.
 */
function attemptBudget(input: RunTaskInput) {
  const retry = input.activity.retry;
  const maximum = retry?.maximumAttempts ?? 0;
  // Milliseconds: `toRunInput` writes every duration as a number.
  const totalMs =
    input.activity.scheduleToCloseTimeout === undefined ? undefined : Number(input.activity.scheduleToCloseTimeout);
  const started = Date.now();
  const leftMs = (): number => (totalMs === undefined ? Infinity : totalMs - (Date.now() - started));
  return {
    totalMs,
    leftMs,
    runHandler(attemptsBefore: number) {
      const left = leftMs();
      return proxyActivities<RunHandlerActivities>({
        ...input.activity,
        ...(left !== Infinity ? { scheduleToCloseTimeout: left } : {}),
        retry: { ...retry, maximumAttempts: maximum === 0 ? 0 : maximum - attemptsBefore },
      }).runHandler;
    },
  };
}

/**
 * Runs the handler's attempts through the dependency's circuit breaker. An attempt that finds the breaker open does
 * not call and does not count: the run waits on a durable timer until the breaker lets a call through, then goes on
 * with the attempts and the total timeout it has left. A breaker that stays open past the total timeout fails the
 * run at once: waiting could not help.
 */
async function runThroughCircuit(
  input: RunTaskInput,
  call: RunHandlerInput,
): Promise<RunHandlerOutput & { circuit?: CircuitWait }> {
  const budget = attemptBudget(input);
  let attemptsBefore = 0;
  let waitedMs = 0;
  for (;;) {
    const output = await budget.runHandler(attemptsBefore)({ ...call, attemptsBefore });
    if (!output.circuitOpen)
      return waitedMs ? { ...output, circuit: { key: call.circuit?.key ?? '', waitedMs } } : output;
    attemptsBefore = output.attempt - 1;
    const waitMs = Math.max(1, Date.parse(output.circuitOpen.retryAt) - Date.now());
    if (waitMs >= budget.leftMs()) {
      const cause = ApplicationFailure.create({
        type: CIRCUIT_OPEN,
        message: `circuit to ${output.circuitOpen.key} is open until ${output.circuitOpen.retryAt}, past the run's total timeout`,
        details: [{ attempt: attemptsBefore, key: output.circuitOpen.key }],
        nonRetryable: true,
      });
      throw new ActivityFailure(cause.message, 'runHandler', undefined, 'TIMEOUT', undefined, cause);
    }
    log.info('circuit open: waiting', { key: output.circuitOpen.key, retryAt: output.circuitOpen.retryAt });
    await sleep(waitMs);
    waitedMs += waitMs;
  }
}

/**
 * One fire of a task: runs its handler exactly once to success (retrying per policy), with an idempotency key
 * derived from the task id and the nominal time, so a handler can make its side effects idempotent.
 * @throws {ApplicationFailure} of type `TaskRunFailed` once the handler has failed for good.
 */
export async function runTask(input: RunTaskInput): Promise<RunTaskResult> {
  const { taskId, handler } = input;
  const nominal = nominalTimeOf(input);
  const nominalTime = formatInstant(nominal);
  const idempotencyKey = input.idempotencyKey ?? `${taskId}@${nominalTime}`;
  setHandler(attemptFailedSignal, (failure) => log.info('attempt failed', { ...failure }));
  // Since `lean-search-attributes`, attributes set when the run started are not written again, and a first-try
  // success leaves `attempts` unset (read as 1): fewer visibility writes per run. Older histories replay the
  // original behaviour.
  const lean = patched('lean-search-attributes');
  const present = workflowInfo().typedSearchAttributes;
  const trigger = input.trigger ?? 'schedule';
  const updates = [
    ...(!lean || present.get(searchAttributeKeys.taskId) !== taskId
      ? [{ key: searchAttributeKeys.taskId, value: taskId }]
      : []),
    ...(!lean || present.get(searchAttributeKeys.nominalTime)?.getTime() !== nominal.getTime()
      ? [{ key: searchAttributeKeys.nominalTime, value: nominal }]
      : []),
    ...(!lean || present.get(searchAttributeKeys.trigger) !== trigger
      ? [{ key: searchAttributeKeys.trigger, value: trigger }]
      : []),
  ];
  if (updates.length) upsertSearchAttributes(updates);
  if (trigger === 'schedule' && inDstSkip(input.dstSkips, nominal)) {
    log.info('task run skipped by its DST policy', { taskId, nominalTime });
    const skipped = { taskId, nominalTime, idempotencyKey, attempt: 0, result: null, dstSkipped: true } as const;
    // Since `dst-skip-outcome`, a skip shows as one in visibility (attempts 0) and hands the failure streak on to
    // the next run (Temporal passes a completed run's result on as `lastResult`); older histories did neither.
    if (!patched('dst-skip-outcome')) return skipped;
    upsertSearchAttributes([{ key: searchAttributeKeys.attempts, value: 0 }]);
    const streak = previousStreak();
    return streak > 0 ? { ...skipped, streak } : skipped;
  }
  log.info('task run started', { taskId, nominalTime, trigger: input.trigger ?? 'schedule' });
  const context = { taskId, nominalTime, idempotencyKey };
  // Since `alerts-and-callbacks`, a run announces its outcome (alerts, callbacks); older histories did not.
  const announcing = patched('alerts-and-callbacks');
  const started = Date.now();
  const announce = (outcome: Pick<RunOutcome, 'status' | 'attempts' | 'result' | 'error'>, streak: number) => {
    const durationMs = Date.now() - started;
    sinks.metrics.runFinished({ taskId, outcome: outcome.status, durationMs, attempts: outcome.attempts });
    return announcing
      ? announceOutcome(
          { taskId, nominalTime, workflowId: workflowInfo().workflowId, durationMs: Date.now() - started, ...outcome },
          { alerts: input.alerts, notify: input.notify, tags: input.tags ?? [], streak },
        )
      : Promise.resolve();
  };
  // A task in groups waits here for their permits (no attempt has begun: its timeouts have not started).
  const permits = await GroupPermits.acquire(input.groups, { taskId, nominalTime });
  const waited = permits.waits.length ? { groups: permits.waits } : {};
  try {
    if (handler.type === 'workflow') {
      const result: unknown = await permits.around(() =>
        executeChild(handler.name, {
          args: [{ ...context, input: handler.input }],
          workflowId: `${workflowInfo().workflowId}.child`,
          // Each attempt is one run of the child: `timeouts.attempt` bounds it, `workflowInfo().attempt` numbers it.
          retry: input.activity.retry,
          workflowRunTimeout: input.activity.startToCloseTimeout,
          workflowExecutionTimeout: input.activity.scheduleToCloseTimeout,
        }),
      );
      log.info('task run succeeded', { taskId, nominalTime });
      await announce({ status: 'succeeded', attempts: 1, result }, 0);
      return { ...context, attempt: 1, result, ...waited };
    }
    const workerHeartbeats = input.workerHeartbeats ? { workerHeartbeats: true } : {};
    const call = { ...context, handler, ...workerHeartbeats, ...(input.circuit ? { circuit: input.circuit } : {}) };
    const { attempt, result, circuit } = await permits.around(
      (): Promise<RunHandlerOutput & { circuit?: CircuitWait }> =>
        input.circuit ? runThroughCircuit(input, call) : runHandlerOf(input, call),
    );
    if (!lean || attempt > 1) upsertSearchAttributes([{ key: searchAttributeKeys.attempts, value: attempt }]);
    log.info('task run succeeded', { taskId, nominalTime, attempt });
    await announce({ status: 'succeeded', attempts: attempt, result }, 0);
    return { ...context, attempt, result, ...waited, ...(circuit ? { circuit } : {}) };
  } catch (error) {
    if (error instanceof ActivityFailure || error instanceof ChildWorkflowFailure) {
      const cause = error.cause;
      const message = cause?.message || error.message;
      const attempts = failedAttempts(error, input);
      upsertSearchAttributes([{ key: searchAttributeKeys.attempts, value: attempts }]);
      log.warn('task run failed', { taskId, nominalTime, error: message });
      // The streak of failures in a row travels in the failure: the next scheduled run receives it.
      const streak = announcing ? previousStreak() + 1 : undefined;
      await announce({ status: 'failed', attempts, error: message }, streak ?? 1);
      throw ApplicationFailure.create({
        type: TASK_RUN_FAILED,
        message: `task ${taskId} failed at ${nominalTime}: ${message}`,
        nonRetryable: true,
        details: [
          {
            taskId,
            nominalTime,
            cause: cause instanceof ApplicationFailure ? cause.type : cause?.name,
            ...(streak ? { streak } : {}),
          },
        ],
        cause,
      });
    }
    throw error;
  }
}
