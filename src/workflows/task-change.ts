import {
  ActivityFailure,
  ApplicationFailure,
  ChildWorkflowFailure,
  log,
  patched,
  proxyActivities,
  proxyLocalActivities,
  startChild,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { createChangeActivities } from '../activities/task-changes.js';
import type {
  AuditItem,
  TaskChange,
  TaskChangeBatch,
  TaskChangeBatchResult,
  TaskChangeFailure,
  TaskChangeOutcome,
  TaskChangeResult,
} from '../tasks/changes.js';
import { formatInstant, runSearchAttributes, type RunTaskInput, type RunTaskResult } from '../contract/run.js';
import { TASK_CHANGE_ERROR_TYPES } from '../contract/task-change.js';
import { workflowTypes } from '../contract/workflow-types.js';

type ChangeActivities = ReturnType<typeof createChangeActivities>;
const retry = { maximumAttempts: 5, initialInterval: '500ms', nonRetryableErrorTypes: [...TASK_CHANGE_ERROR_TYPES] };
const { applyTaskChange } = proxyActivities<ChangeActivities>({ startToCloseTimeout: '1m', retry });
/** The same activity run in the worker that runs the workflow: no activity task, no round trip through the server. */
const { applyTaskChange: applyTaskChangeLocally } = proxyLocalActivities<ChangeActivities>({
  startToCloseTimeout: '1m',
  retry,
});

/**
 * The workflow change that carries out changes as local activities, and accepts batches ({@link TaskChangeBatch}).
 * Executions started before it replay the activity-task path.
 */
export const LOCAL_CHANGE_PATCH = 'task-change-local-activity';
/** Changes of one batch applied at once (each a schedule write or two). */
const BATCH_PARALLELISM = 16;

/**
 * One audited change to a task (create, update, delete, pause, resume, trigger, backfill, apply), or a batch of
 * them. The change and its audit entry are the same durable execution: a change that completed is in the audit
 * trail, one that failed changed nothing, and a crash of the API process in between cannot split them. A single
 * change's before/after is kept in the memo (`audit`), a batch's as one item per task (`audit.items`, each with
 * its own write time); the actor and action in search attributes, with every task touched in `SurecronTaskIds`.
 */
export async function taskChange(
  input: TaskChange | TaskChangeBatch,
): Promise<TaskChangeResult | TaskChangeBatchResult> {
  if (!patched(LOCAL_CHANGE_PATCH)) return activityTaskChange(input as TaskChange);
  const at = formatInstant(workflowInfo().startTime);
  if (!('changes' in input)) {
    const { runInput, ...result } = await applyTaskChangeLocally({ ...input, at });
    upsertMemo({ audit: { before: result.before, after: result.after, appliedAt: result.appliedAt } });
    if (input.action === 'backfill' && runInput && result.times) {
      await backfill(input.taskId, result.times, runInput, input.overlap ?? 'buffer_all');
    }
    return result;
  }
  const outcomes = await inParallel(input.changes, BATCH_PARALLELISM, async (change): Promise<TaskChangeOutcome> => {
    try {
      // A batch never backfills (its runs need a running execution of their own): no run input to keep.
      // eslint-disable-next-line @typescript-eslint/no-unused-vars
      const { runInput, ...result } = await applyTaskChangeLocally({ ...change, at });
      return { taskId: change.taskId, ok: true, result };
    } catch (error) {
      return { taskId: change.taskId, ok: false, failure: failureOf(error) };
    }
  });
  const items = outcomes.flatMap((outcome): AuditItem[] =>
    outcome.ok
      ? [
          {
            taskId: outcome.taskId,
            at: outcome.result.appliedAt ?? at,
            ...(outcome.result.before !== undefined ? { before: outcome.result.before } : {}),
            ...(outcome.result.after !== undefined ? { after: outcome.result.after } : {}),
          },
        ]
      : [],
  );
  upsertMemo({ audit: { items } });
  return { outcomes };
}

/** The pre-{@link LOCAL_CHANGE_PATCH} path: the change as an activity task. */
async function activityTaskChange(change: TaskChange): Promise<TaskChangeResult> {
  const { runInput, ...result } = await applyTaskChange({ ...change, at: formatInstant(workflowInfo().startTime) });
  upsertMemo({ audit: { before: result.before, after: result.after, appliedAt: result.appliedAt } });
  if (change.action === 'backfill' && runInput && result.times) {
    await backfill(change.taskId, result.times, runInput, change.overlap ?? 'buffer_all');
  }
  return result;
}

/** `run` over every item, at most `limit` at once; results in the items' order. */
async function inParallel<T, R>(items: readonly T[], limit: number, run: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await run(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** What a failed change of a batch hands back: its domain error's type and context, or the failure's message. */
function failureOf(error: unknown): TaskChangeFailure {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof ApplicationFailure) {
    return { message: cause.message, ...(cause.type ? { type: cause.type } : {}), details: [...(cause.details ?? [])] };
  }
  return { message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * Runs a task for past nominal times. Each run's workflow id is the one the schedule would have used
 * (`<taskId>-<nominal time>`), and a time whose run already succeeded (or is running) is left alone, so a
 * backfill never runs a fire twice; one that failed is run again. `allow_all` starts every run at once, the
 * other policies run them one after another.
 */
async function backfill(taskId: string, times: string[], runInput: RunTaskInput, overlap: string): Promise<void> {
  let started = 0;
  for (const nominalTime of times) {
    try {
      const child = await startChild<(input: RunTaskInput) => Promise<RunTaskResult>>(workflowTypes.runTask, {
        workflowId: `${taskId}-${nominalTime}`,
        args: [{ ...runInput, nominalTime, trigger: 'backfill' }],
        parentClosePolicy: 'ABANDON',
        workflowIdReusePolicy: 'ALLOW_DUPLICATE_FAILED_ONLY',
        typedSearchAttributes: runSearchAttributes(taskId, 'backfill', new Date(nominalTime)),
      });
      started += 1;
      if (overlap !== 'allow_all') await child.result().catch((error: unknown) => void error);
    } catch (error) {
      const alreadyRun = error instanceof Error && error.name === 'WorkflowExecutionAlreadyStartedError';
      if (!(alreadyRun || error instanceof ChildWorkflowFailure)) throw error;
    }
  }
  log.info('backfill done', { taskId, times: times.length, started });
}
