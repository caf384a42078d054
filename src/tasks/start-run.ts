import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { runSearchAttributes, type RunTaskInput, type RunTrigger } from '../contract/run.js';
import { workflowTypes } from '../contract/workflow-types.js';

/** A run started outside its Schedule: a trigger or a one-off job (backfills start theirs from a workflow). */
export interface RunStart {
  taskQueue: string;
  workflowId: string;
  input: RunTaskInput & { nominalTime: string; trigger: RunTrigger };
  /** Start later (a job's `runAt`). */
  startDelayMs?: number;
  /** A dead letter's retry: a new run under the fire's own workflow id, allowed only while its latest run failed. */
  afterFailure?: true;
}

/**
 * Starts a `runTask` under a workflow id that is never reused (with `afterFailure`: reused only after a failed
 * run), with the run's search attributes. A start whose id already runs or ran (a retried attempt, a repeated
 * submission) finds that run instead of starting a second.
 */
export async function startRunTask(client: Client, start: RunStart): Promise<{ workflowId: string; runId: string }> {
  const { workflowId, input } = start;
  try {
    const handle = await client.workflow.start(workflowTypes.runTask, {
      taskQueue: start.taskQueue,
      workflowId,
      workflowIdReusePolicy: start.afterFailure ? 'ALLOW_DUPLICATE_FAILED_ONLY' : 'REJECT_DUPLICATE',
      args: [input],
      ...(start.startDelayMs ? { startDelay: start.startDelayMs } : {}),
      typedSearchAttributes: runSearchAttributes(input.taskId, input.trigger, new Date(input.nominalTime)),
    });
    return { workflowId, runId: handle.firstExecutionRunId };
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    const { runId } = await client.workflow.getHandle(workflowId).describe();
    return { workflowId, runId };
  }
}
