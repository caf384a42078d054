/**
 * Timed registration of many tasks, shared by bench/load.ts (`--register`, audited) and bench/schedules.ts
 * (`--register`, on each server of the run): tasks on a yearly cron, so registering them adds no fires, written in
 * batches through `applyTasks` over a `TaskWriter` (the `TaskStore` itself, or `TaskService.writer`: the audited
 * `taskChange` path).
 */
import { applyTasks, type ApplyOptions, type TaskWriter } from '../../src/tasks/apply.js';
import { taskSpecSchema, type TaskSpec } from '../../src/tasks/spec.js';

/** `count` tasks `<prefix>-00000…` on a yearly cron (`0 0 1 1 *`) running the function handler `handler`. */
export function registrationSpecs(count: number, handler: string, description: string, prefix = 'reg'): TaskSpec[] {
  return Array.from({ length: count }, (_, i) =>
    taskSpecSchema.parse({
      id: `${prefix}-${String(i).padStart(5, '0')}`,
      description,
      schedule: { cron: '0 0 1 1 *' },
      handler: { type: 'function', name: handler },
    }),
  );
}

export interface ApplyTiming {
  applied: number;
  seconds: number;
  perSec: number;
  complete: boolean;
}

/**
 * Applies `specs` in batches of 250 through `applyTasks(writer, …, options)`, logging progress after each batch;
 * stops once `budgetMs` is spent (`complete: false`, the rate still holds).
 */
export async function timedApply(
  writer: TaskWriter,
  specs: readonly TaskSpec[],
  budgetMs: number,
  label: string,
  log: (line: string) => void,
  options: ApplyOptions = {},
): Promise<ApplyTiming> {
  const started = performance.now();
  let applied = 0;
  const batch = 250;
  for (let i = 0; i < specs.length; i += batch) {
    await applyTasks(writer, specs.slice(i, i + batch), options);
    applied = Math.min(specs.length, i + batch);
    const elapsed = performance.now() - started;
    const rate = applied / (elapsed / 1000);
    log(
      `  ${label}: ${applied}/${specs.length} in ${(elapsed / 1000).toFixed(1)} s (${rate.toFixed(1)}/s, ` +
        `all ${specs.length} projected at ${((specs.length / rate) | 0).toString()} s)`,
    );
    if (elapsed > budgetMs && applied < specs.length) break;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    applied,
    seconds: Math.round(seconds * 10) / 10,
    perSec: Math.round((applied / seconds) * 10) / 10,
    complete: applied === specs.length,
  };
}
