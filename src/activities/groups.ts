import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { Context } from '@temporalio/activity';
import {
  ACQUIRE_PERMIT_SIGNAL,
  groupWorkflowId,
  RELEASE_PERMIT_SIGNAL,
  type GroupKind,
  type PermitRequest,
  type RunGroup,
  type TaskGroupInput,
} from '../contract/group.js';
import { workflowTypes } from '../contract/workflow-types.js';

/** Activities of task groups: a run's request for a permit and its release, and the group's check for ended runs. */
export function createGroupActivities({ client }: { client: Client }) {
  return {
    /**
     * Asks the run's group for a permit, starting the group's workflow on this task queue if it is not running; the
     * group signals the run when it grants it. A signal, not an update: a busy group would refuse updates beyond the
     * server's in-flight limit (`history.maxInFlightUpdates`, 10), where signals simply queue.
     */
    async requestPermit({ group, policy }: RunGroup, request: Omit<PermitRequest, 'policy'>): Promise<void> {
      const input: TaskGroupInput = { group, policy };
      await client.workflow.signalWithStart(workflowTypes.taskGroup, {
        workflowId: groupWorkflowId(policy.kind, group),
        taskQueue: Context.current().info.taskQueue,
        args: [input],
        signal: ACQUIRE_PERMIT_SIGNAL,
        signalArgs: [{ ...request, policy }],
        staticSummary: `surecron ${policy.kind} group ${group}`,
      });
    },
    /** Gives a permit back, or withdraws a request still queued; a group that is gone holds nothing. */
    async releasePermit({ kind, group, workflowId }: { kind: GroupKind; group: string; workflowId: string }) {
      try {
        await client.workflow.getHandle(groupWorkflowId(kind, group)).signal(RELEASE_PERMIT_SIGNAL, { workflowId });
      } catch (error) {
        if (!(error instanceof WorkflowNotFoundError)) throw error;
      }
    },
    /** Of `workflowIds`, the runs that are no longer running (or are gone). */
    async closedRuns(workflowIds: string[]): Promise<string[]> {
      const closed: string[] = [];
      for (const workflowId of workflowIds) {
        try {
          const { status } = await client.workflow.getHandle(workflowId).describe();
          if (status.name !== 'RUNNING') closed.push(workflowId);
        } catch (error) {
          if (error instanceof WorkflowNotFoundError) closed.push(workflowId);
          else throw error;
        }
      }
      return closed;
    },
  };
}

export type GroupActivities = ReturnType<typeof createGroupActivities>;
