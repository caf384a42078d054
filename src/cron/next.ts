import type { CronRule } from './parse.js';
import { daysInMonth, goDate, wallTime, type WallTime } from './zone.js';

/** The server searches no further than this year. */
const MAX_CALENDAR_YEAR = 2100;
const HOUR = 3_600_000;

/** A local wall time that a rule matched but that does not exist (skipped by a spring-forward transition). */
export type SkippedWallTime = Omit<WallTime, 'weekday'>;

/** A rule compiled to set lookups. */
export interface CompiledRule {
  year: (y: number) => boolean;
  month: Set<number>;
  dayOfMonth: Set<number>;
  dayOfWeek: Set<number>;
  hour: Set<number>;
  minute: Set<number>;
  second: Set<number>;
}

export function compileRule(rule: CronRule): CompiledRule {
  const years = rule.year ? new Set(rule.year) : undefined;
  return {
    year: (y) => !years || years.has(y),
    month: new Set(rule.month),
    dayOfMonth: new Set(rule.dayOfMonth),
    dayOfWeek: new Set(rule.dayOfWeek),
    hour: new Set(rule.hour),
    minute: new Set(rule.minute),
    second: new Set(rule.second),
  };
}

/**
 * The first time after `afterMs` that a calendar rule matches in `zone`, or undefined if none before 2101.
 *
 * A faithful port of the Temporal server's `compiledCalendar.next` (service/worker/scheduler/calendar.go,
 * v1.29): it walks wall-clock fields outside-in with carries, at one-second resolution. Around DST it behaves as
 * the server does: a wall time that does not exist (spring forward) is skipped, not moved; a wall time that exists
 * twice (fall back) is tried in both copies via the `dstOffset` bookkeeping. Keeping the quirks is the point:
 * the preview must equal what the server fires.
 */
export function nextCalendarTime(
  rule: CompiledRule,
  afterMs: number,
  zone: string,
  onSkipped?: (skipped: SkippedWallTime) => void,
): number | undefined {
  const ts = Math.floor(afterMs / 1000) * 1000;
  let { year: y, month: mo, day: d, hour: h, minute: m, second: s } = wallTime(ts, zone);
  let dstOffset = 0;
  if (wallTime(ts - HOUR, zone).hour === h) dstOffset = HOUR;
  s += 1;

  outer: for (;;) {
    if (s >= 60) [m, s] = [m + 1, 0];
    if (m >= 60) {
      const prev = goDate(y, mo, d, h, 0, 0, zone);
      [h, m] = [h + 1, 0];
      const next = goDate(y, mo, d, h, 0, 0, zone);
      if (dstOffset === 0 && next - prev > HOUR) {
        h -= 1;
        dstOffset = HOUR;
      } else {
        dstOffset = 0;
      }
    }
    if (h >= 24) [d, h] = [d + 1, 0];
    if (d > daysInMonth(mo, y)) [mo, d] = [mo + 1, 1];
    if (mo > 12) [y, mo] = [y + 1, 1];
    if (y > MAX_CALENDAR_YEAR) return undefined;

    if (!rule.year(y)) {
      [y, mo, d, h, m, s] = [y + 1, 1, 1, 0, 0, 0];
      dstOffset = 0;
      continue outer;
    }
    while (!rule.month.has(mo)) {
      [mo, d, h, m, s] = [mo + 1, 1, 0, 0, 0];
      dstOffset = 0;
      if (mo > 12) continue outer;
    }
    while (!rule.dayOfMonth.has(d) || !rule.dayOfWeek.has(wallTime(goDate(y, mo, d, h, m, s, zone), zone).weekday)) {
      [d, h, m, s] = [d + 1, 0, 0, 0];
      dstOffset = 0;
      if (d > daysInMonth(mo, y)) continue outer;
    }
    while (!rule.hour.has(h)) {
      [h, m, s] = [h + 1, 0, 0];
      dstOffset = 0;
      if (h >= 24) continue outer;
    }
    while (!rule.minute.has(m)) {
      [m, s] = [m + 1, 0];
      if (m >= 60) continue outer;
    }
    while (!rule.second.has(s)) {
      s += 1;
      if (s >= 60) continue outer;
    }
    const nextTs = goDate(y, mo, d, h, m, s, zone);
    if (wallTime(nextTs, zone).hour !== h) {
      onSkipped?.({ year: y, month: mo, day: d, hour: h, minute: m, second: s });
      [h, m, s] = [h + 1, 0, 0];
      continue outer;
    }
    return nextTs + dstOffset;
  }
}

/**
 * The first time after `afterMs` of an interval spec: multiples of `everyMs` since the Unix epoch, shifted by
 * `offsetMs`, both truncated to whole seconds as the server does. Time zones do not apply.
 */
export function nextIntervalTime(everyMs: number, offsetMs: number, afterMs: number): number {
  const every = Math.floor(everyMs / 1000);
  const phase = Math.floor(offsetMs / 1000);
  const ts = Math.floor(afterMs / 1000);
  return ((Math.floor((ts - phase) / every) + 1) * every + phase) * 1000;
}
