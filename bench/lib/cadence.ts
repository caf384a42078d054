/**
 * The cadence every system is given: each schedule fires every `periodSeconds` (10 by default, or 1), schedule `i`
 * at second `i % periodSeconds` of each period (`<k>-59/<period> * * * * *`), so N schedules spread evenly over the
 * period's seconds and N/period runs/s are due. With a 1 s period every schedule fires on every second at once.
 */
export class Cadence {
  readonly periodMs: number;

  constructor(readonly periodSeconds: number) {
    if (![1, 2, 3, 5, 10, 15, 20, 30].includes(periodSeconds)) throw new Error('--period: seconds dividing 60, 1–30');
    this.periodMs = periodSeconds * 1000;
  }

  /** Offset of schedule `i` within the period, in whole seconds. */
  offsetSeconds(i: number): number {
    return i % this.periodSeconds;
  }

  /** The seconds-first cron expression of schedule `i` (BullMQ, croner). */
  cronOf(i: number): string {
    return `${this.offsetSeconds(i)}-59/${this.periodSeconds} * * * * *`;
  }

  /** The latest nominal fire time of schedule `i` at or before `now` (fires are never early). */
  slotAtOrBefore(now: number, i: number): number {
    const offset = this.offsetSeconds(i) * 1000;
    return Math.floor((now - offset) / this.periodMs) * this.periodMs + offset;
  }

  /** Fires of schedule `i` with nominal time in [from, to). */
  firesIn(i: number, from: number, to: number): number {
    const offset = this.offsetSeconds(i) * 1000;
    const first = Math.ceil((from - offset) / this.periodMs);
    const last = Math.ceil((to - offset) / this.periodMs) - 1;
    return Math.max(0, last - first + 1);
  }

  /** Fires of all `size` schedules with nominal time in [from, to). */
  expectedFires(size: number, from: number, to: number): number {
    let total = 0;
    for (let i = 0; i < size; i++) total += this.firesIn(i, from, to);
    return total;
  }
}

/** The bench's default cadence: every 10 s. */
export const DEFAULT_PERIOD_SECONDS = 10;

/** The cadence a runner config asks for. */
export const cadenceOf = (config: { periodSeconds?: number }): Cadence =>
  new Cadence(config.periodSeconds ?? DEFAULT_PERIOD_SECONDS);

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
