import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import type { TaskWriter } from './apply.js';
import {
  runKeysOf,
  type TaskChange,
  type TaskChangeBatch,
  type TaskChangeBatchResult,
  type TaskChangeResult,
} from './changes.js';
import { fromFailure, TaskExistsError, TaskNotFoundError, TaskOwnershipError } from './errors.js';
import { specHash, type TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';
import type { TaskStore } from './store.js';
import { workflowTypes } from '../contract/workflow-types.js';

/**
 * How big one batch audit entry may get. Its task ids go into one KeywordList search attribute, which Temporal caps
 * at 2 KB per value (`limit.searchAttributesSizeOfValue`); its changes are the workflow's input and, with each
 * task's before and after, its memo, both capped at 2 MB per payload (`limit.blobSize`, `limit.memoSize`): 256 KB
 * of changes keeps the memo (at most twice that, before plus after) well inside. A change too big for any batch
 * goes on its own.
 */
export const BATCH_LIMITS = { changes: 100, idBytes: 1800, changeBytes: 256 * 1024 } as const;

/** Batch executions of one actor and action running at once; changes arriving meanwhile wait for the next one. */
const IN_FLIGHT_PER_KEY = 4;

interface Pending {
  change: TaskChange;
  bytes: number;
  resolve: (result: TaskChangeResult) => void;
  reject: (error: unknown) => void;
}

interface Group {
  waiting: Pending[];
  inFlight: number;
  /** Set while a batch is gathering the changes that arrive within {@link LINGER_MS}. */
  lingering?: NodeJS.Timeout;
}

/** How long a batch that could start waits for companions: changes made at once (an apply's) share one entry. */
const LINGER_MS = 3;

/**
 * Changes tasks through the audited `taskChange` workflow, so every change and its audit entry are one durable
 * execution. Reads go straight to the store.
 *
 * Group commit: concurrent changes by the same actor with the same action are carried out by one `taskChange`
 * execution and recorded as one audit entry listing every task it touched, each task with its own write time. A
 * batch starts {@link LINGER_MS} after its first change arrived, taking every change that came meanwhile, while
 * fewer than {@link IN_FLIGHT_PER_KEY} batches of its kind are running; else its changes wait for the next batch,
 * which starts as soon as one of them ends. So a lone change waits 3 ms, and under load the audit's round trips
 * are shared. Each change of a batch still succeeds or fails on its own (all-or-nothing per
 * task): the caller gets exactly the result or error a change of its own would have given.
 */
export class TaskService {
  private readonly groups = new Map<string, Group>();

  constructor(
    readonly client: Client,
    readonly store: TaskStore,
  ) {}

  private options(change: TaskChange) {
    const runIds = runKeysOf([change]);
    return {
      taskQueue: this.store.taskQueue,
      workflowId: `change-${change.taskId}-${randomUUID()}`,
      args: [change] as [TaskChange],
      typedSearchAttributes: [
        { key: searchAttributeKeys.taskId, value: change.taskId },
        { key: searchAttributeKeys.taskIds, value: [change.taskId] },
        { key: searchAttributeKeys.actor, value: change.actor },
        { key: searchAttributeKeys.action, value: change.action },
        ...(runIds.length ? [{ key: searchAttributeKeys.runIds, value: runIds }] : []),
      ],
    };
  }

  /**
   * Carries out a change and waits for it; concurrent ones are grouped into one audited execution.
   * @throws {TaskNotFoundError | TaskExistsError | TaskOwnershipError | TaskConflictError | TaskValidationError}
   */
  async change(change: TaskChange): Promise<TaskChangeResult> {
    // A backfill keeps its execution running for its fires; a retry or resolve lists its run in the entry's
    // `SurecronRunIds` (2 KB a value: no room for a batch's): always one of its own.
    if (change.action === 'backfill' || change.action === 'retry' || change.action === 'resolve')
      return this.changeAlone(change);
    const key = `${change.actor}\u0000${change.action}`;
    let group = this.groups.get(key);
    if (!group) this.groups.set(key, (group = { waiting: [], inFlight: 0 }));
    const bytes = Buffer.byteLength(JSON.stringify(change));
    const result = new Promise<TaskChangeResult>((resolve, reject) =>
      group.waiting.push({ change, bytes, resolve, reject }),
    );
    if (group.inFlight < IN_FLIGHT_PER_KEY && !group.lingering) {
      const lingering = group;
      lingering.lingering = setTimeout(() => {
        lingering.lingering = undefined;
        this.drain(key, lingering);
      }, LINGER_MS);
    }
    return result;
  }

  /** Starts batches of a group's waiting changes while it has room. */
  private drain(key: string, group: Group): void {
    while (group.waiting.length > 0 && group.inFlight < IN_FLIGHT_PER_KEY) {
      const batch = takeBatch(group.waiting);
      group.inFlight += 1;
      void this.runBatch(batch).finally(() => {
        group.inFlight -= 1;
        if (group.waiting.length === 0 && group.inFlight === 0 && !group.lingering) this.groups.delete(key);
        else this.drain(key, group);
      });
    }
  }

  /** One batch execution; settles each of its changes' promises, never rejects. */
  private async runBatch(batch: Pending[]): Promise<void> {
    const changes = batch.map((pending) => pending.change);
    const first = changes[0] as TaskChange;
    const ids = changes.map((change) => change.taskId);
    let outcomes: TaskChangeBatchResult['outcomes'];
    try {
      ({ outcomes } = await this.client.workflow.execute<(batch: TaskChangeBatch) => Promise<TaskChangeBatchResult>>(
        workflowTypes.taskChange,
        {
          taskQueue: this.store.taskQueue,
          workflowId: `change-${ids.length === 1 ? first.taskId : 'batch'}-${randomUUID()}`,
          args: [{ changes }],
          typedSearchAttributes: [
            // The one-task key keeps the Web UI's `SurecronTaskId = "…"` filter finding single changes.
            ...(ids.length === 1 ? [{ key: searchAttributeKeys.taskId, value: first.taskId }] : []),
            { key: searchAttributeKeys.taskIds, value: ids },
            { key: searchAttributeKeys.actor, value: first.actor },
            { key: searchAttributeKeys.action, value: first.action },
          ],
        },
      ));
    } catch (error) {
      for (const pending of batch) pending.reject(fromFailure(error, pending.change.taskId));
      return;
    }
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) pending.resolve(outcome.result);
      else {
        const failure = outcome?.failure ?? { message: 'the batch returned no outcome for this change' };
        const error = ApplicationFailure.create({
          message: failure.message,
          ...(failure.type ? { type: failure.type } : {}),
          details: failure.details ?? [],
        });
        pending.reject(fromFailure(error, pending.change.taskId));
      }
    });
  }

  /** A change in an execution of its own (the pre-batch form, which backfills use). */
  private async changeAlone(change: TaskChange): Promise<TaskChangeResult> {
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

  /**
   * A writer for `applyTasks` whose every change is audited as `apply` by `actor`. Its writes are many at once
   * ({@link TaskWriter.concurrency}), so an apply's changes group into batch entries. Which tasks exist is read
   * once, from the task list: a task not in it is created without reading it first (one that appeared meanwhile
   * fails the create as taken, and `applyTasks` replaces it instead).
   */
  writer(actor: string): TaskWriter {
    const apply = async (taskId: string, source: TaskSource, op: 'create' | 'update' | 'delete', spec?: TaskSpec) => {
      const change: TaskChange =
        op === 'delete'
          ? { taskId, actor, source, action: 'apply', op }
          : { taskId, actor, source, action: 'apply', op, spec: spec as TaskSpec };
      return this.change(change);
    };
    let listed: Promise<Set<string>> | undefined;
    /** Listed tasks are read to be sure (the list may lag a deletion); one not listed is taken not to exist. */
    const exists = async (id: string): Promise<boolean> => {
      listed ??= this.store.listIds().then((ids) => new Set(ids));
      if (!(await listed).has(id)) return false;
      return this.store.get(id).then(
        () => true,
        (error: unknown) => {
          if (error instanceof TaskNotFoundError) return false;
          throw error;
        },
      );
    };
    return {
      concurrency: BATCH_LIMITS.changes * 2,
      create: async (spec, source) => {
        if (await exists(spec.id)) throw new TaskExistsError(spec.id);
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

/** The longest run of waiting changes that fits one batch: distinct tasks, within {@link BATCH_LIMITS}. */
function takeBatch(waiting: Pending[]): Pending[] {
  const batch: Pending[] = [];
  const ids = new Set<string>();
  let idBytes = 0;
  let changeBytes = 0;
  for (let i = 0; i < waiting.length && batch.length < BATCH_LIMITS.changes;) {
    const pending = waiting[i] as Pending;
    const id = pending.change.taskId;
    const fits =
      batch.length === 0 ||
      (idBytes + id.length + 3 <= BATCH_LIMITS.idBytes && changeBytes + pending.bytes <= BATCH_LIMITS.changeBytes);
    if (!fits) break;
    if (ids.has(id)) {
      // A second change to the same task waits for the next batch, so the two never race each other.
      i += 1;
      continue;
    }
    waiting.splice(i, 1);
    batch.push(pending);
    ids.add(id);
    idBytes += id.length + 3;
    changeBytes += pending.bytes;
  }
  return batch;
}
