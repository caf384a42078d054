/**
 * What makes the server fire exactly a schedule's DST policy. A Schedule keeps its calendars in the task's own
 * time zone (readable in the Web UI, right on every ordinary day); around each DST transition within a horizon,
 * surecron compares the server's walk (`fires.ts`, `server` semantics, a port of the server's code) with the
 * policy and writes down the difference:
 *
 * - a fire the policy wants and the server would not make becomes an **addition**: an interval spec whose period
 *   ({@link ADDITION_PERIOD_MS}, 40 years) is longer than any horizon, phased to land on that one instant;
 * - a fire the server would make and the policy does not becomes a **skip**: a range of nominal times the
 *   `runTask` workflow ends at once without running the handler (outcome `dst_skipped`).
 *
 * The horizon is kept fresh by the watchdog (see {@link DST_REFRESH_MS}): after it, the schedule would fall
 * back to the server's own behaviour, which differs only in the hours around a transition.
 */
import { transitionsBetween } from '../cron/tz.js';
import { firesBetween } from './fires.js';
import { scheduleTimezone, serverTimezone } from './schedule-def.js';
import type { ScheduleDef } from './spec.js';

const DAY = 86_400_000;
/** How far ahead corrections are computed: three years. */
export const DST_HORIZON_MS = 1096 * DAY;
/** The watchdog recomputes a task's corrections once less than this is left of its horizon: two years. */
export const DST_REFRESH_MS = 731 * DAY;
/** Around a transition, how far the server's walk and the policy can differ: the largest offset change, 2 h. */
const WINDOW_MS = 3 * 3_600_000;
/** Rounds of additions per transition before giving up (one or two settle every case in the tests). */
const MAX_ROUNDS = 8;
/**
 * The most additions a schedule may need over its horizon. Each is an interval spec the scheduler evaluates at
 * every step, so a fixed hour with per-second fields (`* * 2 * * *` east of UTC: 3,600 a year) is refused.
 */
export const MAX_DST_ADDITIONS = 1000;
const iso = (ms: number): string => new Date(ms).toISOString();

/** A schedule whose DST policy would take more than {@link MAX_DST_ADDITIONS} additions over its horizon. */
export class TooManyDstCorrectionsError extends Error {
  constructor(readonly zone: string) {
    super(
      `its DST policy needs more than ${MAX_DST_ADDITIONS} extra fires over the next 3 years in ${zone} ` +
        '(a fixed hour with minute- or second-level fields that a DST change skips or repeats): ' +
        'write the hour as "*" or a step so it follows real time, or fire less often in that hour',
    );
    this.name = 'TooManyDstCorrectionsError';
  }
}

export interface DstCorrections {
  /** Instants (ms) the server must fire in addition to its calendars. */
  additions: number[];
  /** Closed ranges of nominal times (ms) the server fires and the policy does not. */
  skips: [number, number][];
  /** Corrections hold for fires before this instant. */
  horizonEnd: number;
}

/** A nominal time a run must end at once: inside a skip range. */
export function inSkip(skips: readonly (readonly [number, number])[], atMs: number): boolean {
  return skips.some(([from, to]) => atMs >= from && atMs <= to);
}

/** Sorted extras grouped into ranges that hold no wanted fire. */
function toRanges(extras: number[], wanted: ReadonlySet<number>, all: number[]): [number, number][] {
  const ranges: [number, number][] = [];
  const isExtra = new Set(extras);
  let open: [number, number] | undefined;
  for (const at of all) {
    if (isExtra.has(at)) {
      if (open) open[1] = at;
      else ranges.push((open = [at, at]));
    } else if (wanted.has(at)) open = undefined;
  }
  return ranges;
}

/**
 * The corrections a schedule needs over `[fromMs, fromMs + horizonMs)`.
 * @throws {TooManyDstCorrectionsError} past {@link MAX_DST_ADDITIONS}; {Error} when the schedule cannot be evaluated.
 */
export function dstCorrections(schedule: ScheduleDef, fromMs: number, horizonMs = DST_HORIZON_MS): DstCorrections {
  const horizonEnd = fromMs + horizonMs;
  const additions: number[] = [];
  const skips: [number, number][] = [];
  const zone = scheduleTimezone(schedule);
  // Calendars the server walks in UTC (see serverTimezone) fire the same at every offset: nothing to correct.
  if (schedule.cron === undefined || serverTimezone(schedule) !== zone) return { additions, skips, horizonEnd };
  let windowStart = fromMs;
  for (const transition of transitionsBetween(zone, fromMs, horizonEnd + WINDOW_MS)) {
    // Windows of neighbouring transitions (Lord Howe, Casey) merge, so no fire is judged twice.
    const from = Math.max(windowStart, transition.atMs - WINDOW_MS);
    const to = transition.atMs + WINDOW_MS;
    if (to <= from) continue;
    windowStart = to;
    const policy = firesBetween(schedule, from, to, 'policy');
    const policySet = new Set(policy);
    // An addition moves the server's walk, and with it the next calendar times: add until nothing is missing.
    const serverFires = (): number[] => firesBetween(schedule, from, to, 'server', undefined, additions);
    let server = serverFires();
    for (let round = 0; ; round++) {
      const present = new Set(server);
      const missing = policy.filter((at) => !present.has(at) && at < horizonEnd);
      if (missing.length === 0) break;
      if (round === MAX_ROUNDS)
        throw new Error(`DST corrections for ${zone} did not settle around ${iso(transition.atMs)}`);
      additions.push(...missing);
      if (additions.length > MAX_DST_ADDITIONS) throw new TooManyDstCorrectionsError(zone);
      server = serverFires();
    }
    const extras = server.filter((at) => !policySet.has(at));
    const all = [...new Set([...server, ...policy])].sort((a, b) => a - b);
    skips.push(...toRanges(extras, policySet, all));
  }
  return { additions: additions.sort((a, b) => a - b), skips, horizonEnd };
}
