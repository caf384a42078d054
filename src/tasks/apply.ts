import pLimit from 'p-limit';
import { TaskValidationError } from './errors.js';
import { TaskExistsError, TaskNotFoundError, TaskOwnershipError } from './errors.js';
import { specHash, type TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';
import type { TaskStore } from './store.js';

export interface ApplyResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
  /** Tasks left alone because their id belongs to someone else (an API task or a foreign schedule). */
  skipped: { id: string; reason: string }[];
}

/** Where `applyTasks` writes: the store itself, or the audited task service. */
export interface TaskWriter {
  /** @throws {TaskExistsError} when the id is taken. */
  create(spec: TaskSpec, source: TaskSource): Promise<void>;
  /** @returns false when the stored spec already equals `spec`. */
  replace(spec: TaskSpec, source: TaskSource): Promise<boolean>;
  delete(id: string, source?: TaskSource): Promise<void>;
  listIds(source?: TaskSource): Promise<string[]>;
  /** Writes this writer takes at once, when the caller sets none (default 8). */
  concurrency?: number;
}

export interface ApplyOptions {
  /** Delete tasks of this source that are no longer declared. */
  prune?: boolean;
  source?: TaskSource;
  /**
   * Tasks written at once (default: the writer's own, else 8): large applies are bound by round trips, not by the
   * server. The audited writer takes many, as its concurrent changes share batch audit entries.
   */
  concurrency?: number;
}

type Outcome = { kind: 'created' | 'updated' | 'unchanged' } | { kind: 'skipped'; reason: string };

/** Creates a task, or else replaces it; a task owned by someone else is skipped. */
async function applyOne(store: TaskWriter, spec: TaskSpec, source: TaskSource): Promise<Outcome> {
  try {
    await store.create(spec, source);
    return { kind: 'created' };
  } catch (error) {
    if (!(error instanceof TaskExistsError)) throw error;
  }
  try {
    return { kind: (await store.replace(spec, source)) ? 'updated' : 'unchanged' };
  } catch (error) {
    if (error instanceof TaskOwnershipError) return { kind: 'skipped', reason: `managed by ${error.owner}` };
    if (error instanceof TaskNotFoundError)
      return { kind: 'skipped', reason: "a schedule that is not this deployment's task has this id" };
    throw error;
  }
}

/** Waits for every write, then rethrows the first failure: no write is left running behind an error. */
async function settle<T>(writes: Promise<T>[]): Promise<T[]> {
  const settled = await Promise.allSettled(writes);
  const failed = settled.find((outcome) => outcome.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((outcome) => (outcome as PromiseFulfilledResult<T>).value);
}

/**
 * Reconciles declared tasks into Schedules: creates what is missing, updates what changed, optionally prunes
 * what is gone. Idempotent: applying the same tasks twice changes nothing. Safe to run from several processes
 * at once: creation races end in one schedule, updates are guarded by the schedule's conflict token. Never
 * touches schedules it does not own.
 */
export async function applyTasks(
  store: TaskWriter,
  specs: readonly TaskSpec[],
  options: ApplyOptions = {},
): Promise<ApplyResult> {
  const source = options.source ?? 'code';
  const result: ApplyResult = { created: [], updated: [], unchanged: [], deleted: [], skipped: [] };
  const ids = new Set<string>();
  const duplicates: { id: string; index: number }[] = [];
  specs.forEach((spec, index) => {
    if (ids.has(spec.id)) duplicates.push({ id: spec.id, index });
    ids.add(spec.id);
  });
  if (duplicates.length) {
    throw new TaskValidationError(
      duplicates.map(({ id, index }) => ({ path: `tasks.${index}.id`, message: `task id ${id} is declared twice` })),
    );
  }
  const limit = pLimit(options.concurrency ?? store.concurrency ?? 8);
  const outcomes = await settle(specs.map((spec) => limit(() => applyOne(store, spec, source))));
  specs.forEach((spec, i) => {
    const outcome = outcomes[i] as Outcome;
    if (outcome.kind === 'skipped') result.skipped.push({ id: spec.id, reason: outcome.reason });
    else result[outcome.kind].push(spec.id);
  });
  if (options.prune) {
    const gone = (await store.listIds(source)).filter((id) => !ids.has(id));
    const deleted = await settle(
      gone.map((id) =>
        limit(() =>
          store.delete(id, source).then(
            () => true,
            (error: unknown) => {
              if (error instanceof TaskNotFoundError) return false;
              throw error;
            },
          ),
        ),
      ),
    );
    result.deleted.push(...gone.filter((_, i) => deleted[i]));
  }
  return result;
}

/**
 * A writer that writes nothing: `applyTasks` through it answers what an apply would create, update, leave and
 * delete (`apply --dry-run`), reading the store as the audited writer does.
 */
export function dryRunWriter(store: Pick<TaskStore, 'get' | 'listIds'>): TaskWriter {
  return {
    create: async (spec) => {
      const existing = await store.get(spec.id).catch((error: unknown) => {
        if (error instanceof TaskNotFoundError) return undefined;
        throw error;
      });
      if (existing) throw new TaskExistsError(spec.id);
    },
    replace: async (spec, source) => {
      const current = await store.get(spec.id);
      if (current.source !== source) throw new TaskOwnershipError(spec.id, current.source);
      return current.specHash !== specHash(spec);
    },
    delete: async () => {},
    listIds: (source) => store.listIds(source),
  };
}
