import { TaskValidationError } from './validate.js';
import { TaskExistsError, TaskNotFoundError, TaskOwnershipError } from './errors.js';
import type { TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';

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
}

export interface ApplyOptions {
  /** Delete tasks of this source that are no longer declared. */
  prune?: boolean;
  source?: TaskSource;
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
  for (const spec of specs) {
    try {
      await store.create(spec, source);
      result.created.push(spec.id);
      continue;
    } catch (error) {
      if (!(error instanceof TaskExistsError)) throw error;
    }
    try {
      const changed = await store.replace(spec, source);
      (changed ? result.updated : result.unchanged).push(spec.id);
    } catch (error) {
      if (error instanceof TaskOwnershipError)
        result.skipped.push({ id: spec.id, reason: `managed by ${error.owner}` });
      else if (error instanceof TaskNotFoundError)
        result.skipped.push({ id: spec.id, reason: 'a schedule that is not a surecron task has this id' });
      else throw error;
    }
  }
  if (options.prune) {
    for (const id of await store.listIds(source)) {
      if (ids.has(id)) continue;
      try {
        await store.delete(id, source);
        result.deleted.push(id);
      } catch (error) {
        if (!(error instanceof TaskNotFoundError)) throw error;
      }
    }
  }
  return result;
}
