/**
 * A schedule's fires in a window as runs `start + k·delta`, computed without walking them one by one: the same
 * fires and DST events as `scheduleFires` (surecron's DST policies), for a simulator that counts millions.
 *
 * Intervals are arithmetic. A calendar rule, away from its zone's offset changes, fires at the same times of
 * every matching wall day less a constant offset (`steady-fires.ts`). Within `MARGIN_MS` of a change the rule's
 * own policy walk (`policyFires`) decides, and reports the DST events; its events are ordered as `scheduleFires`
 * reports them (by the fire of the same rule they follow, then by rule).
 */
import { policyFires, type WallEvent } from '../cron/dst.js';
import { nextIntervalTime } from '../cron/next.js';
import { transitionsBetween, zoneOffset } from '../cron/tz.js';
import { scheduleSources, toDstEvent, type DstEvent, type ScheduleSources } from './fires.js';
import { FireList, RunBuilder, type FireRun, type FireSink } from './run-length.js';
import { steadyOffsetFires, timesOfDay } from './steady-fires.js';
import type { ScheduleDef } from './spec.js';

const DAY = 86_400_000;
/** Days either side of an offset change left to the policy walk; covers any UTC offset up to ±24 h. */
const MARGIN_MS = 4 * DAY;
/** Steady stretches of a schedule with several rules or intervals are merged a week at a time. */
const SLICE_MS = 7 * DAY;

export interface ScheduleRuns {
  /** Ascending and disjoint: every fire of a run precedes the next run's first. */
  runs: FireRun[];
  fires: number;
  dstEvents: DstEvent[];
}

interface RuleWalk {
  source: ScheduleSources['rules'][number]['source'];
  compiled: ScheduleSources['rules'][number]['compiled'];
  times: number[];
  /** The rule's last fire so far (after the window's start). */
  lastFire?: number;
  /** Set in the last stretch: the rule's first fire at or after the end, and its walk. */
  head?: { atMs: number; walk: Generator<number> };
}

interface ReportedEvent {
  /** The rule's fire the walk had reached when it reported the event (−∞: none yet). */
  after: number;
  rule: number;
  seq: number;
  event: WallEvent;
}

/** Stretches near an offset change (and the tail after `endAt`), walked by the policy; merged, from `start` on. */
function policyStretches(zone: string, start: number, end: number, toMs: number): [number, number][] {
  const stretches = transitionsBetween(zone, start - MARGIN_MS, end + MARGIN_MS).map((tr): [number, number] => [
    tr.atMs - MARGIN_MS,
    tr.atMs + MARGIN_MS,
  ]);
  // After `endAt` the policy walk runs on to each rule's next fire, and reports what it passes.
  if (end < toMs) stretches.push([end - MARGIN_MS, Infinity]);
  stretches.sort((x, y) => x[0] - y[0]);
  const merged: [number, number][] = [];
  for (const [from, to] of stretches) {
    const a = Math.max(from, start);
    const last = merged.at(-1);
    if (last && a <= last[1]) last[1] = Math.max(last[1], to);
    else if (a < to) merged.push([a, to]);
  }
  return merged;
}

/** Fires of an interval (first fire `first`, then every `every`) in `[fromMs, toMs)`. */
function intervalRun(first: number, every: number, fromMs: number, toMs: number, sink: FireSink): void {
  const lo = Math.max(0, Math.ceil((fromMs - first) / every));
  const hi = Math.ceil((toMs - first) / every);
  if (hi > lo) sink.pushProgression(first + lo * every, every, hi - lo);
}

/** Merges ascending lists into the builder (which drops repeats). */
function mergeInto(builder: RunBuilder, lists: readonly number[][]): void {
  const at = lists.map(() => 0);
  for (;;) {
    let best = -1;
    let value = Infinity;
    for (let i = 0; i < lists.length; i++) {
      const v = (lists[i] as number[])[at[i] as number];
      if (v !== undefined && v < value) [best, value] = [i, v];
    }
    if (best < 0 || builder.full) return;
    at[best] = (at[best] as number) + 1;
    builder.push(value);
  }
}

class ScheduleWalk {
  readonly builder: RunBuilder;
  readonly rules: RuleWalk[];
  readonly reported: ReportedEvent[] = [];
  private seq = 0;
  private readonly firsts: number[];

  constructor(
    private readonly sources: ScheduleSources,
    private readonly start: number,
    private readonly end: number,
    limit: number,
  ) {
    this.builder = new RunBuilder(limit);
    this.rules = sources.rules.map(({ source, compiled }) => ({ source, compiled, times: timesOfDay(source) }));
    this.firsts = sources.intervals.map(({ every, offset }) => {
      if (!(every > 0)) throw new RangeError(`interval of ${every} ms`);
      return nextIntervalTime(every, offset, start - 1);
    });
  }

  /** One sink per source; a lone source writes straight to the builder. */
  private sinks(): { sinks: FireSink[]; flush: () => void } {
    const count = this.rules.length + this.firsts.length;
    if (count === 1) return { sinks: [this.builder], flush: () => undefined };
    const lists = Array.from({ length: count }, () => new FireList());
    return {
      sinks: lists,
      flush: () =>
        mergeInto(
          this.builder,
          lists.map((list) => list.fires),
        ),
    };
  }

  private intervals(sinks: FireSink[], fromMs: number, toMs: number): void {
    this.sources.intervals.forEach(({ every }, i) => {
      intervalRun(this.firsts[i] as number, every, fromMs, toMs, sinks[this.rules.length + i] as FireSink);
    });
  }

  /** `[fromMs, toMs)`, where the zone's offset holds (no change within `MARGIN_MS`). */
  steady(fromMs: number, toMs: number): void {
    const slice = this.rules.length + this.firsts.length === 1 ? Infinity : SLICE_MS;
    for (let from = fromMs; from < toMs && !this.builder.full; from += slice) {
      const to = Math.min(toMs, from + slice);
      const { sinks, flush } = this.sinks();
      const offset = this.rules.length > 0 ? zoneOffset(this.sources.zone, from) : 0;
      this.rules.forEach((rule, i) => {
        const sink = sinks[i] as FireSink;
        steadyOffsetFires(rule.source, rule.compiled, rule.times, offset, from, to, sink);
        const last = sink instanceof FireList ? sink.fires.at(-1) : this.builder.last;
        if (last !== undefined && last > -Infinity) rule.lastFire = last;
      });
      this.intervals(sinks, from, to);
      flush();
    }
  }

  /** `[fromMs, toMs)` by each rule's policy walk; the last stretch (`toMs >= end`) walks each rule to its head. */
  walked(fromMs: number, toMs: number): void {
    const until = Math.min(toMs, this.end);
    const first = this.reported.length;
    const { sinks, flush } = this.sinks();
    this.rules.forEach((rule, r) => {
      const { zone, policy } = this.sources;
      const walk = policyFires(rule.source, rule.compiled, zone, policy, fromMs - 1, (event) => {
        this.reported.push({ after: rule.lastFire ?? -Infinity, rule: r, seq: this.seq++, event });
      });
      for (let next = walk.next(); !next.done; next = walk.next()) {
        if (next.value >= until) {
          if (toMs >= this.end) rule.head = { atMs: next.value, walk };
          break;
        }
        (sinks[r] as FireSink).push(next.value);
        rule.lastFire = next.value;
      }
    });
    this.intervals(sinks, fromMs, until);
    flush();
    // Events past a middle stretch are the next stretch's: it reports them itself.
    if (toMs < this.end) {
      const own = this.reported.splice(first).filter(({ event }) => event.atMs < toMs);
      this.reported.push(...own);
    }
  }

  /**
   * `scheduleFires` stops at the first fire at or after the end, but the rule (the first, on a tie) that fire
   * came from has walked on once more: what it reported on the way counts too.
   */
  stepPastEnd(): void {
    let best: RuleWalk | undefined;
    let bestAt = Infinity;
    for (const rule of this.rules) if (rule.head && rule.head.atMs < bestAt) [best, bestAt] = [rule, rule.head.atMs];
    this.sources.intervals.forEach(({ every }, i) => {
      const first = this.firsts[i] as number;
      const head = first >= this.end ? first : first + Math.ceil((this.end - first) / every) * every;
      if (head < bestAt) [best, bestAt] = [undefined, head];
    });
    if (!best?.head) return;
    best.lastFire = best.head.atMs;
    best.head.walk.next();
  }

  /** The events reported, in the order `scheduleFires` lists them, those in `[fromMs, toMs)` (and, when the limit
   * cut the fires short, not after the last fire). */
  events(fromMs: number, toMs: number): DstEvent[] {
    const cut = this.builder.full ? this.builder.last : Infinity;
    return this.reported
      .filter(({ event }) => event.atMs >= fromMs && event.atMs < toMs && event.atMs <= cut)
      .sort((x, y) => x.after - y.after || x.rule - y.rule || x.seq - y.seq)
      .map(({ event }) => toDstEvent(event));
  }
}

/**
 * A schedule's nominal fires in `[fromMs, toMs)` (within its `startAt`/`endAt`) as runs, and its DST events in
 * the window: the fires and events of `scheduleFires(schedule, fromMs, toMs)`. With `limit`, only the first
 * `limit` fires, and only the events not after the last of them.
 */
export function fireRuns(schedule: ScheduleDef, fromMs: number, toMs: number, limit = Infinity): ScheduleRuns {
  const sources = scheduleSources(schedule);
  const start = Math.max(fromMs, schedule.startAt ? Date.parse(schedule.startAt) : -Infinity);
  const end = Math.min(toMs, schedule.endAt ? Date.parse(schedule.endAt) + 1 : Infinity);
  if (!(start < toMs) || !(limit > 0)) return { runs: [], fires: 0, dstEvents: [] };
  const walk = new ScheduleWalk(sources, start, end, limit);
  const stretches = sources.rules.length > 0 ? policyStretches(sources.zone, start, end, toMs) : [];
  let from = start;
  for (const [a, b] of stretches) {
    if (walk.builder.full) break;
    if (a > from) walk.steady(from, Math.min(a, end));
    walk.walked(a, b);
    from = b;
  }
  if (from < end && !walk.builder.full) walk.steady(from, end);
  if (!walk.builder.full && (stretches.at(-1)?.[1] ?? -Infinity) >= end) walk.stepPastEnd();
  const { runs, fires } = walk.builder;
  return { runs, fires, dstEvents: walk.events(fromMs, toMs) };
}
