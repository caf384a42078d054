/**
 * The cadence every system is given: each schedule fires every 10 s, schedule `i` at second `i % 10` of each
 * 10-second slot (`<k>-59/10 * * * * *`), so N schedules spread evenly over the seconds and N/10 runs/s are due.
 */
export const PERIOD_MS = 10_000;

/** Offset of schedule `i` within the period, in whole seconds. */
export function offsetSeconds(i: number): number {
  return i % 10;
}

/** The seconds-first cron expression of schedule `i` (BullMQ, croner). */
export function cronOf(i: number): string {
  return `${offsetSeconds(i)}-59/10 * * * * *`;
}

/** The latest nominal fire time of schedule `i` at or before `now` (fires are never early). */
export function slotAtOrBefore(now: number, i: number): number {
  const offset = offsetSeconds(i) * 1000;
  return Math.floor((now - offset) / PERIOD_MS) * PERIOD_MS + offset;
}

/** Fires of schedule `i` with nominal time in [from, to). */
export function firesIn(i: number, from: number, to: number): number {
  const offset = offsetSeconds(i) * 1000;
  const first = Math.ceil((from - offset) / PERIOD_MS);
  const last = Math.ceil((to - offset) / PERIOD_MS) - 1;
  return Math.max(0, last - first + 1);
}

/** Fires of all `size` schedules with nominal time in [from, to). */
export function expectedFires(size: number, from: number, to: number): number {
  let total = 0;
  for (let i = 0; i < size; i++) total += firesIn(i, from, to);
  return total;
}

/** Runs `fn` over `items` with at most `limit` calls in flight. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(lanes);
}
