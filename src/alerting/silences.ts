import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import {
  addSilenceUpdate,
  alertStateWorkflowId,
  removeSilenceUpdate,
  silencesQuery,
  type NewSilence,
  type Silence,
} from '../contract/alert.js';
import { workflowTypes } from '../contract/workflow-types.js';

/** The alert state workflow, started on first use. */
export function alertStateOperation(taskQueue: string) {
  return new WithStartWorkflowOperation(workflowTypes.alertState, {
    workflowId: alertStateWorkflowId(taskQueue),
    taskQueue,
    workflowIdConflictPolicy: 'USE_EXISTING',
    args: [],
  });
}

/** Silences live in the shared alert-state workflow: durable, seen by every worker and API instance. */
export class SilenceStore {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  add(silence: NewSilence): Promise<Silence> {
    return this.client.workflow.executeUpdateWithStart(addSilenceUpdate, {
      args: [silence],
      startWorkflowOperation: alertStateOperation(this.taskQueue),
    });
  }

  /** @returns false when no active silence has this id. */
  remove(id: string): Promise<boolean> {
    return this.client.workflow.executeUpdateWithStart(removeSilenceUpdate, {
      args: [id],
      startWorkflowOperation: alertStateOperation(this.taskQueue),
    });
  }

  /** Active and future silences; none before the first one is added. */
  async list(): Promise<Silence[]> {
    try {
      return await this.client.workflow.getHandle(alertStateWorkflowId(this.taskQueue)).query(silencesQuery);
    } catch (error) {
      if ((error as Error).name === 'WorkflowNotFoundError') return [];
      throw error;
    }
  }
}
