import { defaultDstPolicy, policyFires, type DstPolicy, type WallEvent } from '../cron/dst.js';
import { compileRule, nextCalendarTime, nextIntervalTime, type CompiledRule } from '../cron/next.js';
import { parseCron, type CronRule } from '../cron/parse.js';
import { additionInterval } from './dst-additions.js';
import { parseDuration } from './duration.js';
import { cronExpressions, scheduleTimezone, serverTimezone } from './schedule-def.js';
import type { ScheduleDef } from './spec.js';

/** What a DST policy did to one fire written in a schedule. */
export interface DstEvent {
  /** The wall time the expression names, `2027-03-14T02:30:00` (no offset: it may not exist, or exist twice). */
  wall: string;
  /** `gap`: the wall time does not exist (spring forward); `repeat`: it exists twice (fall back). */
  change: 'gap' | 'repeat';
  /** What the policy did: shifted to the gap's end, skipped, fired once (first copy) or twice. */
  applied: 'shift' | 'skip' | 'once' | 'twice';
  /** The expression's hour field is a wildcard or step: it follows real time, whatever the policy says. */
  followsRealTime?: true;
  /** The instants it fired at (ISO 8601 UTC); empty when skipped. */
  firedAt: string[];
  /** Where it sits in time: its first fire, or the end of the gap when skipped. */
  at: string;
}

/** One nominal fire time. */
export interface Fire {
  atMs: number;
  /** Set when a DST policy decided this fire. */
  dst?: DstEvent;
}

/** Whose fire times: surecron's (the DST policy applied) or what the server's own calendar walk yields. */
export type FireSemantics = 'policy' | 'server';

/** A schedule's DST policy with defaults filled in. */
export function dstPolicyOf(schedule: ScheduleDef): DstPolicy {
  return { ...defaultDstPolicy, ...schedule.dst };
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A policy's wall event as the API reports it. */
export function toDstEvent(event: WallEvent): DstEvent {
  return {
    wall: new Date(event.wallMs).toISOString().slice(0, 19),
    change: event.change,
    applied: event.applied,
    ...(event.followsRealTime ? { followsRealTime: true as const } : {}),
    firedAt: event.firedAt.map(iso),
    at: iso(event.atMs),
  };
}

/** A lazily merged stream of several ascending streams, without duplicates. */
function* mergeAscending(streams: Iterator<number>[]): Generator<number> {
  const heads = streams.map((stream) => stream.next());
  let last = -Infinity;
  for (;;) {
    let best = -1;
    for (const [i, head] of heads.entries()) {
      if (!head.done && (best < 0 || head.value < (heads[best]?.value as number))) best = i;
    }
    if (best < 0) return;
    const value = heads[best]?.value as number;
    heads[best] = (streams[best] as Iterator<number>).next();
    if (value > last) yield (last = value);
  }
}

function* intervalFires(everyMs: number, offsetMs: number, afterMs: number): Generator<number> {
  for (let at = nextIntervalTime(everyMs, offsetMs, afterMs); ; at += everyMs) yield at;
}

/** An interval spec: fires every `every` ms since the Unix epoch, shifted by `offset`. */
export interface Interval {
  every: number;
  offset: number;
}

/** What a schedule's fires come from: its zone and DST policy, its calendar rules and its intervals, in order. */
export interface ScheduleSources {
  zone: string;
  policy: DstPolicy;
  rules: { source: CronRule; compiled: CompiledRule }[];
  intervals: Interval[];
}

export function scheduleSources(schedule: ScheduleDef): ScheduleSources {
  const rules: ScheduleSources['rules'] = [];
  const intervals: Interval[] = [];
  for (const expression of cronExpressions(schedule)) {
    const parsed = parseCron(expression);
    if (!parsed.ok) throw new Error(`cron "${expression}": ${parsed.error}`);
    const cron = parsed.value;
    if (cron.kind === 'interval') intervals.push({ every: cron.everyMs, offset: 0 });
    else for (const rule of cron.rules) rules.push({ source: rule, compiled: compileRule(rule) });
  }
  if (schedule.every) {
    intervals.push({ every: parseDuration(schedule.every) ?? 0, offset: parseDuration(schedule.offset ?? '0s') ?? 0 });
  }
  return { zone: scheduleTimezone(schedule), policy: dstPolicyOf(schedule), rules, intervals };
}

/**
 * The server's walk over a whole spec: each fire is the earliest next time of any calendar or interval after the
 * previous fire. Around DST a calendar's next time depends on where the walk stands, so the calendars cannot be
 * walked one by one and merged.
 */
function* serverWalk(
  rules: CompiledRule[],
  zone: string,
  intervals: readonly Interval[],
  afterMs: number,
): Generator<number> {
  for (let after = afterMs; ;) {
    let best: number | undefined;
    for (const rule of rules) {
      const next = nextCalendarTime(rule, after, zone);
      if (next !== undefined && (best === undefined || next < best)) best = next;
    }
    for (const { every, offset } of intervals) {
      const next = nextIntervalTime(every, offset, after);
      if (best === undefined || next < best) best = next;
    }
    if (best === undefined) return;
    yield (after = best);
  }
}

/**
 * A schedule's nominal fires strictly after `afterMs`, ascending and endless (unless its rules run out), before
 * `startAt`/`endAt` are applied. `onEvent` hears of every DST event on the way (policy semantics only).
 */
export function fireStream(
  schedule: ScheduleDef,
  afterMs: number,
  semantics: FireSemantics = 'policy',
  onEvent?: (event: DstEvent) => void,
  additions: readonly number[] = [],
): Generator<number> {
  const { zone, policy, rules, intervals } = scheduleSources(schedule);
  if (semantics === 'server') {
    const all = [...intervals, ...additions.map((at) => additionInterval(at))];
    return serverWalk(
      rules.map((rule) => rule.compiled),
      serverTimezone(schedule),
      all,
      afterMs,
    );
  }
  const report = onEvent && ((event: WallEvent) => onEvent(toDstEvent(event)));
  return mergeAscending([
    ...rules.map(({ source, compiled }) => policyFires(source, compiled, zone, policy, afterMs, report)),
    ...intervals.map(({ every, offset }) => intervalFires(every, offset, afterMs)),
  ]);
}

/** The fires of a stream from `fromMs` (inclusive) to `toMs` (exclusive), within the schedule's start and end. */
export function firesBetween(
  schedule: ScheduleDef,
  fromMs: number,
  toMs: number,
  semantics: FireSemantics = 'policy',
  onEvent?: (event: DstEvent) => void,
  additions: readonly number[] = [],
): number[] {
  const start = Math.max(fromMs, schedule.startAt ? Date.parse(schedule.startAt) : -Infinity);
  const end = Math.min(toMs, schedule.endAt ? Date.parse(schedule.endAt) + 1 : Infinity);
  const fires: number[] = [];
  for (const at of fireStream(schedule, start - 1, semantics, onEvent, additions)) {
    if (at >= end) break;
    fires.push(at);
  }
  return fires;
}

/**
 * Every nominal fire of a schedule in `[fromMs, toMs)`, as surecron makes them happen (DST policy applied), and
 * every DST event in that window, including fires a policy skipped.
 */
export function scheduleFires(
  schedule: ScheduleDef,
  fromMs: number,
  toMs: number,
): { fires: Fire[]; dstEvents: DstEvent[] } {
  const dstEvents: DstEvent[] = [];
  const times = firesBetween(schedule, fromMs, toMs, 'policy', (event) => dstEvents.push(event));
  const inWindow = dstEvents.filter((event) => Date.parse(event.at) >= fromMs && Date.parse(event.at) < toMs);
  const byInstant = new Map<number, DstEvent>();
  for (const event of inWindow) for (const at of event.firedAt) byInstant.set(Date.parse(at), event);
  const fires = times.map((atMs) => {
    const dst = byInstant.get(atMs);
    return dst ? { atMs, dst } : { atMs };
  });
  return { fires, dstEvents: inWindow };
}
