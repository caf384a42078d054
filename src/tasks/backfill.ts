import { previewSchedule } from './preview.js';
import type { ScheduleDef } from './spec.js';
import { TaskValidationError } from './errors.js';

/**
 * How a backfill runs its fires: one after another, skipping a time whose run is going (`skip`), one after
 * another (`buffer_all`), or all at once (`allow_all`).
 */
export const backfillOverlapPolicies = ['skip', 'buffer_all', 'allow_all'] as const;
export type BackfillOverlap = (typeof backfillOverlapPolicies)[number];

/** Fire times one backfill may cover. */
export const MAX_BACKFILL_RUNS = 1000;

/**
 * The fire times a backfill of [from, to) covers.
 * @throws {TaskValidationError} when there are more than `MAX_BACKFILL_RUNS`.
 */
export function backfillTimes(schedule: ScheduleDef, from: Date, to: Date): string[] {
  const times = previewSchedule(schedule, { from: new Date(from.getTime() - 1), count: MAX_BACKFILL_RUNS + 1 })
    .map((run) => run.at)
    .filter((at) => Date.parse(at) >= from.getTime() && Date.parse(at) < to.getTime());
  if (times.length > MAX_BACKFILL_RUNS) {
    throw new TaskValidationError([
      { path: 'to', message: `the window holds more than ${MAX_BACKFILL_RUNS} fire times; narrow it` },
    ]);
  }
  return times;
}
