import {
  ScheduleAlreadyRunning,
  ScheduleClient,
  ScheduleNotFoundError,
  type Client,
  type ScheduleDescription,
  type ScheduleUpdateOptions,
} from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import pLimit from 'p-limit';
import { withWorkflowServiceCall } from '../client.js';
import { encodePageToken, quote, withPageToken } from '../temporal/visibility.js';
import type { TeamScope } from '../contract/team-scope.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { TaskConflictError, TaskExistsError, TaskNotFoundError, TaskOwnershipError } from './errors.js';
import {
  MEMO_KEY,
  scheduleSearchAttributes,
  specHash,
  toScheduleOptions,
  type TaskMemo,
  type TaskSource,
} from './schedule.js';
import type { TaskSpec } from './spec.js';

/** Schedules described at once by a list: enough to hide latency, few enough not to swamp the server. */
const describeLimit = pLimit(16);

/** Filters and paging for {@link TaskStore.list}. */
export interface TaskListQuery {
  tag?: { key: string; value: string };
  /** Only tasks a team-scoped token may see. */
  scope?: TeamScope;
  paused?: boolean;
  pageSize?: number;
  pageToken?: string;
}

export interface TaskPage {
  items: StoredTask[];
  nextPageToken?: string;
}

/** A task as stored in its Temporal Schedule. */
export interface StoredTask {
  id: string;
  spec: TaskSpec;
  source: TaskSource;
  specHash: string;
  description: ScheduleDescription;
  /** Until when its DST corrections hold (ms), for a cron task. */
  dstHorizonEnd?: number;
}

function taskMemo(description: ScheduleDescription): TaskMemo | undefined {
  const memo = description.action.type === 'startWorkflow' ? description.action.memo?.[MEMO_KEY] : undefined;
  return memo && typeof memo === 'object' && 'spec' in memo ? (memo as TaskMemo) : undefined;
}

/** The server's time of a schedule's last write: its update time, else its creation time. */
const writeTime = ({ info }: ScheduleDescription): Date => info.lastUpdatedAt ?? info.createdAt;

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
   * @throws {TaskNotFoundError} if there is no such schedule, it is not a surecron task, or it is another
   * deployment's (another task queue's) task: deployments sharing a namespace never touch each other's tasks.
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
    const queue = description.action.type === 'startWorkflow' ? description.action.taskQueue : undefined;
    if (!memo || queue !== this.taskQueue) throw new TaskNotFoundError(id);
    const { spec, source, specHash: hash, dstHorizonEnd } = memo;
    return {
      id,
      spec,
      source,
      specHash: hash,
      description,
      ...(dstHorizonEnd ? { dstHorizonEnd: Date.parse(dstHorizonEnd) } : {}),
    };
  }

  /**
   * One page of this deployment's tasks (those on its task queue), newest first, filtered by the server through
   * the schedules' search attributes. Deployments sharing a namespace never see each other's tasks.
   * @throws {InvalidPageTokenError} for a token this store did not hand out.
   */
  async list({ tag, scope, paused, pageSize = 100, pageToken }: TaskListQuery = {}): Promise<TaskPage> {
    const page = await this.listPage(this.query({ tag, scope, paused }), pageSize, pageToken);
    const tasks = await this.getMany(page.ids);
    return { items: tasks, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  }

  /** The tasks with these ids, described concurrently; ids whose schedule is gone are left out. */
  async getMany(ids: readonly string[]): Promise<StoredTask[]> {
    const tasks = await Promise.all(
      ids.map((id) =>
        describeLimit(() =>
          this.get(id).catch((error: unknown) => {
            if (error instanceof TaskNotFoundError) return undefined;
            throw error;
          }),
        ),
      ),
    );
    return tasks.filter((task) => task !== undefined);
  }

  /** Ids of this deployment's tasks, of the given source or all (those carrying `tag`, within `scope`), sorted. */
  async listIds(source?: TaskSource, filter: Pick<TaskListQuery, 'tag' | 'scope'> = {}): Promise<string[]> {
    const ids: string[] = [];
    for await (const summary of this.client.schedule.list({ pageSize: 1000, query: this.query(filter) })) {
      const owner = summary.memo?.[MEMO_KEY] as { source?: TaskSource } | undefined;
      if (!source || owner?.source === source) ids.push(summary.scheduleId);
    }
    return ids.sort();
  }

  /**
   * Gives this deployment's tasks whose schedules carry no search attributes (made before surecron 0.2) theirs,
   * so that lists and prunes see them. Safe to run from every process at start-up.
   * @returns the ids indexed.
   */
  async indexLegacyTasks(): Promise<string[]> {
    const indexed: string[] = [];
    const query = `${searchAttributeKeys.taskQueue.name} IS NULL`;
    for await (const summary of this.client.schedule.list({ pageSize: 1000, query })) {
      const owner = summary.memo?.[MEMO_KEY] as { taskQueue?: string } | undefined;
      if (owner?.taskQueue !== this.taskQueue) continue;
      const task = await this.get(summary.scheduleId).catch(() => undefined);
      if (!task) continue;
      const { description, spec } = task;
      const token = description.raw.conflictToken ?? undefined;
      // A concurrent writer wins; its update carries the attributes, or the next start-up tries again.
      const done = await this.updateGuarded(task.id, token, description, scheduleSearchAttributes(spec, this.taskQueue))
        .then(() => true)
        .catch(() => false);
      if (done) indexed.push(task.id);
    }
    return indexed;
  }

  private query({ tag, scope, paused }: Pick<TaskListQuery, 'tag' | 'scope' | 'paused'>): string {
    const { taskQueue, tags } = searchAttributeKeys;
    return [
      `${taskQueue.name} = ${quote(this.taskQueue)}`,
      ...(tag ? [`${tags.name} = ${quote(`${tag.key}=${tag.value}`)}`] : []),
      // One clause per key (keys ANDed), each any of the key's values.
      ...Object.entries(scope ?? {}).map(
        ([key, values]) => `(${values.map((value) => `${tags.name} = ${quote(`${key}=${value}`)}`).join(' OR ')})`,
      ),
      ...(paused === undefined ? [] : [`TemporalSchedulePaused = ${paused}`]),
    ].join(' AND ');
  }

  private async listPage(
    query: string,
    pageSize: number,
    pageToken: string | undefined,
  ): Promise<{ ids: string[]; nextPageToken?: string }> {
    const { namespace } = this.client.options;
    const response = await withPageToken(pageToken, (nextPageToken) =>
      this.client.workflowService.listSchedules({ namespace, query, maximumPageSize: pageSize, nextPageToken }),
    );
    const next = encodePageToken(response.nextPageToken);
    return {
      ids: response.schedules.map((schedule) => schedule.scheduleId ?? ''),
      ...(next ? { nextPageToken: next } : {}),
    };
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
    return (await this.replaceSpec(spec, source)) !== undefined;
  }

  /**
   * {@link TaskStore.replace}, telling when the server took the write. `known` is the task as the caller just read
   * it, saving the first read; a stale one costs a retry, never a lost write (the conflict token guards it).
   * @returns the server's time of the write; undefined when the stored spec already equals `spec`.
   */
  async replaceSpec(spec: TaskSpec, source: TaskSource, known?: StoredTask): Promise<Date | undefined> {
    const wanted = specHash(spec);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = attempt === 0 && known ? known : await this.get(spec.id);
      if (current.source !== source) throw new TaskOwnershipError(spec.id, current.source);
      // Already as wanted: unchanged, or another writer stored the same spec while we retried.
      if (current.specHash === wanted) return undefined;
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
      await this.updateGuarded(
        spec.id,
        current.description.raw.conflictToken ?? undefined,
        update,
        scheduleSearchAttributes(spec, this.taskQueue),
      );
      const after = await this.get(spec.id);
      if (after.specHash === wanted) return writeTime(after.description);
    }
    throw new TaskConflictError(spec.id);
  }

  /**
   * Recomputes a task's DST corrections from now on (see `tasks/dst-corrections.ts`), keeping its spec, policies
   * and state as they are; guarded by the conflict token, so a concurrent change wins and this write is dropped.
   * @returns false when another writer got in first (its write computed fresh corrections too).
   */
  async renewDstCorrections(task: StoredTask, now = Date.now()): Promise<boolean> {
    const options = toScheduleOptions(task.spec, { taskQueue: this.taskQueue, source: task.source, now });
    const { policies, state, raw } = task.description;
    try {
      await this.updateGuarded(
        task.id,
        raw.conflictToken ?? undefined,
        { spec: options.spec, action: options.action, policies, state },
        scheduleSearchAttributes(task.spec, this.taskQueue),
      );
    } catch (error) {
      if ((error as { code?: number }).code === 9 || (error as { code?: number }).code === 10) return false;
      throw error;
    }
    return true;
  }

  /**
   * Pauses or resumes a task with a guarded full update of its schedule (not a patch), so that the server records
   * when the change took effect (see {@link TaskStore.writtenAt}). Spec, action and policies are kept as the
   * schedule has them; a retry that finds the state already set writes nothing.
   * @returns the task as it was before, and the server's time of the write when this call wrote.
   * @throws {TaskNotFoundError} when there is no such task.
   * @throws {TaskConflictError} when it kept changing under us.
   */
  async setPaused(id: string, paused: boolean, note: string): Promise<{ before: StoredTask; writtenAt?: Date }> {
    let before: StoredTask | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.get(id);
      before ??= current;
      const { state, raw } = current.description;
      if (state.paused === paused && state.note === note) {
        // Read again after a write of ours: its time is the schedule's latest write.
        const wrote = current !== before;
        return { before, ...(wrote ? { writtenAt: writeTime(current.description) } : {}) };
      }
      const { spec, action, policies } = current.description;
      await this.updateGuarded(
        id,
        raw.conflictToken ?? undefined,
        { spec, action, policies, state: { ...state, paused, note } },
        scheduleSearchAttributes(current.spec, this.taskQueue),
      );
    }
    throw new TaskConflictError(id);
  }

  /**
   * When the schedule's last write took effect on the server: its update time, else its creation time. The
   * scheduler takes fires up to this instant under the previous spec and state, later ones under the new ones,
   * so this (not the writer's clock) is where an audit entry belongs.
   */
  async writtenAt(id: string): Promise<Date> {
    return writeTime((await this.get(id)).description);
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

  /**
   * Writes the schedule with the SDK's own `ScheduleHandle.update`, which keeps the headers the schedule's action
   * carries (set by client interceptors, say), its request carrying the conflict token of the description the
   * update was computed from: if another writer changed the schedule since, the server leaves the schedule as
   * that writer made it, and the caller's read-back sees so. The schedule's search attributes are replaced as a
   * whole; a write the server refuses throws its own error, as a raw UpdateSchedule call gives it.
   * @throws {TaskNotFoundError} when the schedule is gone.
   */
  private async updateGuarded(
    scheduleId: string,
    conflictToken: Uint8Array | undefined,
    options: ScheduleUpdateOptions,
    searchAttributes: SearchAttributePair[],
  ): Promise<void> {
    const { connection } = this.client;
    const { namespace, identity, loadedDataConverter, interceptors } = this.client.options;
    try {
      await withWorkflowServiceCall(
        connection,
        'updateSchedule',
        (request) => connection.workflowService.updateSchedule({ ...request, conflictToken }),
        async (guarded) => {
          const schedules = new ScheduleClient({
            connection: guarded,
            namespace,
            identity,
            dataConverter: loadedDataConverter,
            interceptors: interceptors.schedule ?? [],
          });
          await schedules
            .getHandle(scheduleId)
            .update(() => ({ ...options, searchAttributes: undefined, typedSearchAttributes: searchAttributes }));
        },
      );
    } catch (error) {
      if (error instanceof ScheduleNotFoundError || (error as { code?: number }).code === 5) {
        throw new TaskNotFoundError(scheduleId);
      }
      throw error;
    }
  }
}
