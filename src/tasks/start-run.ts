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
}

/**
 * Starts a `runTask` under a workflow id that is never reused, with the run's search attributes. A start whose
 * id already ran (a retried attempt, a repeated submission) finds that run instead of starting a second.
 */
export async function startRunTask(client: Client, start: RunStart): Promise<{ workflowId: string; runId: string }> {
  const { workflowId, input } = start;
  try {
    const handle = await client.workflow.start(workflowTypes.runTask, {
      taskQueue: start.taskQueue,
      workflowId,
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
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
