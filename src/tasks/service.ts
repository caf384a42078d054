import type { Client } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import type { TaskWriter } from './apply.js';
import type { TaskChange, TaskChangeResult } from './changes.js';
import { fromFailure, TaskExistsError, TaskOwnershipError } from './errors.js';
import { specHash, type TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';
import type { TaskStore } from './store.js';
import { workflowTypes } from '../contract/workflow-types.js';

/**
 * Changes tasks through the audited `taskChange` workflow, so every change and its audit entry are one durable
 * execution. Reads go straight to the store.
 */
export class TaskService {
  constructor(
    readonly client: Client,
    readonly store: TaskStore,
  ) {}

  private options(change: TaskChange) {
    return {
      taskQueue: this.store.taskQueue,
      workflowId: `change-${change.taskId}-${randomUUID()}`,
      args: [change] as [TaskChange],
      typedSearchAttributes: [
        { key: searchAttributeKeys.taskId, value: change.taskId },
        { key: searchAttributeKeys.actor, value: change.actor },
        { key: searchAttributeKeys.action, value: change.action },
      ],
    };
  }

  /**
   * Carries out a change and waits for it.
   * @throws {TaskNotFoundError | TaskExistsError | TaskOwnershipError | TaskConflictError | TaskValidationError}
   */
  async change(change: TaskChange): Promise<TaskChangeResult> {
    try {
      return await this.client.workflow.execute<(change: TaskChange) => Promise<TaskChangeResult>>(
        workflowTypes.taskChange,
        this.options(change),
      );
    } catch (error) {
      throw fromFailure(error, change.taskId);
    }
  }

  /** Starts a long change (a backfill) and returns once it has been accepted and its first step done. */
  async start(change: TaskChange): Promise<{ workflowId: string; runId: string }> {
    const handle = await this.client.workflow.start(workflowTypes.taskChange, this.options(change));
    return { workflowId: handle.workflowId, runId: handle.firstExecutionRunId };
  }

  /** A writer for `applyTasks` whose every change is audited as `apply` by `actor`. */
  writer(actor: string): TaskWriter {
    const apply = async (taskId: string, source: TaskSource, op: 'create' | 'update' | 'delete', spec?: TaskSpec) => {
      const change: TaskChange =
        op === 'delete'
          ? { taskId, actor, source, action: 'apply', op }
          : { taskId, actor, source, action: 'apply', op, spec: spec as TaskSpec };
      return this.change(change);
    };
    return {
      create: async (spec, source) => {
        const existing = await this.store.get(spec.id).catch(() => undefined);
        if (existing) throw new TaskExistsError(spec.id);
        await apply(spec.id, source, 'create', spec);
      },
      replace: async (spec, source) => {
        const current = await this.store.get(spec.id);
        if (current.source !== source) throw new TaskOwnershipError(spec.id, current.source);
        if (current.specHash === specHash(spec)) return false;
        await apply(spec.id, source, 'update', spec);
        return true;
      },
      delete: async (id, source) => {
        await apply(id, source ?? 'api', 'delete');
      },
      listIds: (source) => this.store.listIds(source),
    };
  }
}
