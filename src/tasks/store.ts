import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { LoadedDataConverter } from '@temporalio/common';
import {
  compileUpdatedScheduleOptions,
  encodeScheduleAction,
  encodeSchedulePolicies,
  encodeScheduleSpec,
  encodeScheduleState,
} from '@temporalio/client/lib/schedule-helpers.js';
import { randomUUID } from 'node:crypto';
import { TaskConflictError, TaskExistsError, TaskNotFoundError, TaskOwnershipError } from './errors.js';
import { MEMO_KEY, specHash, toScheduleOptions, type TaskMemo, type TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';

/** A task as stored in its Temporal Schedule. */
export interface StoredTask {
  id: string;
  spec: TaskSpec;
  source: TaskSource;
  specHash: string;
  description: ScheduleDescription;
}

function taskMemo(description: ScheduleDescription): TaskMemo | undefined {
  const memo = description.action.type === 'startWorkflow' ? description.action.memo?.[MEMO_KEY] : undefined;
  return memo && typeof memo === 'object' && 'spec' in memo ? (memo as TaskMemo) : undefined;
}

/**
 * Tasks kept in Temporal Schedules, one per task, schedule id = task id. The spec lives in the schedule's
 * action memo, so Temporal stays the only stateful dependency.
 */
export class TaskStore {
  constructor(
    readonly client: Client,
    readonly taskQueue: string,
  ) {}

  /**
   * @throws {TaskNotFoundError} if there is no such schedule or it is not a surecron task.
   */
  async get(id: string): Promise<StoredTask> {
    let description: ScheduleDescription;
    try {
      description = await this.client.schedule.getHandle(id).describe();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) throw new TaskNotFoundError(id);
      throw error;
    }
    const memo = taskMemo(description);
    if (!memo) throw new TaskNotFoundError(id);
    return { id, spec: memo.spec, source: memo.source, specHash: memo.specHash, description };
  }

  /**
   * Ids of this deployment's tasks (those on its task queue), of the given source or all, from the schedule list.
   * Deployments sharing a namespace never see, and so never prune, each other's tasks.
   */
  async listIds(source?: TaskSource): Promise<string[]> {
    const ids: string[] = [];
    for await (const summary of this.client.schedule.list()) {
      const owner = summary.memo?.[MEMO_KEY] as { source?: TaskSource; taskQueue?: string } | undefined;
      if (!owner?.source || owner.taskQueue !== this.taskQueue) continue;
      if (!source || owner.source === source) ids.push(summary.scheduleId);
    }
    return ids.sort();
  }

  /**
   * @throws {TaskExistsError} if a schedule with this id exists.
   */
  async create(spec: TaskSpec, source: TaskSource): Promise<void> {
    try {
      await this.client.schedule.create(toScheduleOptions(spec, { taskQueue: this.taskQueue, source }));
    } catch (error) {
      if (error instanceof ScheduleAlreadyRunning) throw new TaskExistsError(spec.id);
      throw error;
    }
  }

  /**
   * Replaces a task's spec, guarded by the schedule's conflict token: a concurrent writer's change is never
   * silently overwritten with a stale view. Runtime state (paused, note, remaining runs) is kept unless the
   * spec's own `paused` or `maxRuns` changed.
   * @returns false when the stored spec already equals `spec` (nothing written).
   * @throws {TaskOwnershipError} when the task belongs to another source.
   * @throws {TaskConflictError} when it kept changing under us.
   */
  async replace(spec: TaskSpec, source: TaskSource): Promise<boolean> {
    const wanted = specHash(spec);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(spec.id);
      if (current.source !== source) throw new TaskOwnershipError(spec.id, current.source);
      // Already as wanted: unchanged, or another writer stored the same spec while we retried.
      if (current.specHash === wanted) return false;
      const options = toScheduleOptions(spec, { taskQueue: this.taskQueue, source });
      const state = current.description.state;
      const update: ScheduleUpdateOptions = {
        spec: options.spec,
        action: options.action,
        policies: options.policies,
        state: {
          paused: spec.paused !== current.spec.paused ? spec.paused : state.paused,
          note:
            spec.paused !== current.spec.paused || spec.note !== current.spec.note ? options.state?.note : state.note,
          ...(spec.maxRuns !== current.spec.maxRuns
            ? { remainingActions: spec.maxRuns }
            : state.remainingActions !== undefined
              ? { remainingActions: state.remainingActions }
              : {}),
        },
      };
      await this.updateGuarded(spec.id, current.description.raw.conflictToken ?? undefined, update);
      const after = await this.get(spec.id);
      if (after.specHash === wanted) return true;
    }
    throw new TaskConflictError(spec.id);
  }

  /**
   * @throws {TaskNotFoundError} when there is no such task.
   */
  async delete(id: string, source?: TaskSource): Promise<void> {
    const current = await this.get(id);
    if (source && current.source !== source) throw new TaskOwnershipError(id, current.source);
    try {
      await this.client.schedule.getHandle(id).delete();
    } catch (error) {
      if (error instanceof ScheduleNotFoundError) throw new TaskNotFoundError(id);
      throw error;
    }
  }

  /** UpdateSchedule with the conflict token of the description the update was computed from. */
  private async updateGuarded(
    scheduleId: string,
    conflictToken: Uint8Array | undefined,
    options: ScheduleUpdateOptions,
  ): Promise<void> {
    const { namespace, identity } = this.client.options;
    const compiled = compileUpdatedScheduleOptions(scheduleId, options);
    const dataConverter = (this.client.schedule as unknown as { dataConverter: LoadedDataConverter }).dataConverter;
    try {
      await this.client.workflowService.updateSchedule({
        namespace,
        scheduleId,
        conflictToken,
        identity,
        requestId: randomUUID(),
        schedule: {
          spec: encodeScheduleSpec(compiled.spec),
          action: await encodeScheduleAction(dataConverter, namespace, compiled.action, {}),
          policies: encodeSchedulePolicies(compiled.policies),
          state: encodeScheduleState(compiled.state),
        },
      });
    } catch (error) {
      if ((error as { code?: number }).code === 5) throw new TaskNotFoundError(scheduleId);
      throw error;
    }
  }
}
