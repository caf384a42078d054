import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import type { QueryDefinition, UpdateDefinition } from '@temporalio/common';
import {
  ackUpdate,
  openAlertsQuery,
  type AckRequest,
  type OpenAlert,
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

/**
 * The shared alert-state workflow seen from the API: its silences and open alerts, durable and seen by every worker
 * and API instance.
 */
export class AlertStateStore {
  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  addSilence(silence: NewSilence): Promise<Silence> {
    return this.update(addSilenceUpdate, silence);
  }

  /** @returns false when no active silence has this id. */
  removeSilence(id: string): Promise<boolean> {
    return this.update(removeSilenceUpdate, id);
  }

  /** Active and future silences; none before the first one is added. */
  silences(): Promise<Silence[]> {
    return this.query(silencesQuery);
  }

  /** Alerts whose condition has not cleared, the newest first. */
  openAlerts(): Promise<OpenAlert[]> {
    return this.query(openAlertsQuery);
  }

  /** @returns the acknowledged alert, or undefined when no open alert has this id. */
  ack(request: AckRequest): Promise<OpenAlert | undefined> {
    return this.update(ackUpdate, request);
  }

  private update<Ret, Args extends unknown[]>(definition: UpdateDefinition<Ret, Args>, ...args: Args): Promise<Ret> {
    return this.client.workflow.executeUpdateWithStart(definition, {
      args,
      startWorkflowOperation: alertStateOperation(this.taskQueue),
    });
  }

  private async query<T>(definition: QueryDefinition<T[]>): Promise<T[]> {
    try {
      return await this.client.workflow.getHandle(alertStateWorkflowId(this.taskQueue)).query(definition);
    } catch (error) {
      if ((error as Error).name === 'WorkflowNotFoundError') return [];
      throw error;
    }
  }
}
