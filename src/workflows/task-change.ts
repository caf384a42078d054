import { ChildWorkflowFailure, log, proxyActivities, startChild, upsertMemo, workflowInfo } from '@temporalio/workflow';
import type { createChangeActivities } from '../activities/task-changes.js';
import type { TaskChange, TaskChangeResult } from '../tasks/changes.js';
import { formatInstant, runSearchAttributes, type RunTaskInput, type RunTaskResult } from '../contract/run.js';
import { TASK_CHANGE_ERROR_TYPES } from '../contract/task-change.js';
import { workflowTypes } from '../contract/workflow-types.js';

const { applyTaskChange } = proxyActivities<ReturnType<typeof createChangeActivities>>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 5, initialInterval: '500ms', nonRetryableErrorTypes: [...TASK_CHANGE_ERROR_TYPES] },
});

/**
 * One audited change to a task (create, update, delete, pause, resume, trigger, backfill, apply). The change and
 * its audit entry are the same durable execution: a change that completed is in the audit trail, one that
 * failed changed nothing, and a crash of the API process in between cannot split them. The entry's before/after
 * is kept in the memo, the actor and action in search attributes.
 */
export async function taskChange(change: TaskChange): Promise<TaskChangeResult> {
  const { runInput, ...result } = await applyTaskChange({ ...change, at: formatInstant(workflowInfo().startTime) });
  upsertMemo({ audit: { before: result.before, after: result.after, appliedAt: result.appliedAt } });
  if (change.action === 'backfill' && runInput && result.times) {
    await backfill(change.taskId, result.times, runInput, change.overlap ?? 'buffer_all');
  }
  return result;
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
