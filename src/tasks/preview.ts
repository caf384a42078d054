import { parseDuration } from './duration.js';
import { cronExpressions, scheduleTimezone } from './schedule.js';
import type { ScheduleDef } from './spec.js';
import { compileRule, nextCalendarTime, nextIntervalTime, type SkippedWallTime } from '../cron/next.js';
import { parseCron } from '../cron/parse.js';
import { formatLocal, offsetAt, wallTime } from '../cron/zone.js';

/** One upcoming fire time. */
export interface PreviewRun {
  /** UTC instant, ISO 8601. */
  at: string;
  /** Wall time in the schedule's time zone, with its offset. */
  local: string;
  /** Set around DST transitions: what happens to this fire, or to one that was skipped just before it. */
  dst?: string;
}

type NextFn = (afterMs: number, onSkipped: (s: SkippedWallTime) => void) => number | undefined;

function nextFunctions(schedule: ScheduleDef, zone: string): NextFn[] {
  const fns: NextFn[] = [];
  const crons = cronExpressions(schedule);
  for (const expression of crons) {
    const parsed = parseCron(expression);
    if (!parsed.ok) throw new Error(`cron "${expression}": ${parsed.error}`);
    const cron = parsed.value;
    if (cron.kind === 'interval') fns.push((after) => nextIntervalTime(cron.everyMs, 0, after));
    else
      for (const rule of cron.rules.map(compileRule))
        fns.push((after, onSkipped) => nextCalendarTime(rule, after, zone, onSkipped));
  }
  if (schedule.every) {
    const every = parseDuration(schedule.every) ?? 0;
    const offset = parseDuration(schedule.offset ?? '0s') ?? 0;
    fns.push((after) => nextIntervalTime(every, offset, after));
  }
  return fns;
}

const pad = (n: number): string => String(n).padStart(2, '0');

function ambiguityNote(atMs: number, zone: string): string | undefined {
  const before = offsetAt(atMs - 3 * 3_600_000, zone);
  const after = offsetAt(atMs + 3 * 3_600_000, zone);
  if (before <= after) return undefined;
  const wall = wallTime(atMs, zone);
  const same = (ms: number): boolean => {
    const other = wallTime(ms, zone);
    return (
      other.day === wall.day && other.hour === wall.hour && other.minute === wall.minute && other.second === wall.second
    );
  };
  const shift = before - after;
  const copy = same(atMs + shift) ? 'first' : same(atMs - shift) ? 'second' : undefined;
  if (!copy) return undefined;
  const time = `${pad(wall.hour)}:${pad(wall.minute)}:${pad(wall.second)}`;
  return `ambiguous local time: clocks fall back in ${zone}, so ${time} occurs twice; this is the ${copy} occurrence`;
}

function skippedNote(skipped: SkippedWallTime[], zone: string): string {
  const times = skipped.map(
    (s) => `${s.year}-${pad(s.month)}-${pad(s.day)} ${pad(s.hour)}:${pad(s.minute)}:${pad(s.second)}`,
  );
  const shown = times.length > 3 ? `${times.slice(0, 3).join(', ')} and ${times.length - 3} more` : times.join(', ');
  return `skipped before this run: ${shown} does not exist in ${zone} (clocks spring forward), so it does not fire`;
}

/**
 * The next `count` fire times of a schedule strictly after `from`, computed exactly as the Temporal server
 * computes them (see `nextCalendarTime`), without creating anything. Nominal times: jitter is not applied.
 * @throws {Error} when the schedule cannot be evaluated (an invalid cron expression).
 */
export function previewSchedule(
  schedule: ScheduleDef,
  { from = new Date(), count = 10, until }: { from?: Date; count?: number; until?: Date } = {},
): PreviewRun[] {
  const zone = scheduleTimezone(schedule);
  const fns = nextFunctions(schedule, zone);
  const startAt = schedule.startAt ? Date.parse(schedule.startAt) : undefined;
  const endAt = schedule.endAt ? Date.parse(schedule.endAt) : undefined;
  const runs: PreviewRun[] = [];
  let after = from.getTime();
  if (startAt !== undefined && after < startAt) after = startAt - 1000;
  while (runs.length < count) {
    const skipped = new Map<number, SkippedWallTime[]>();
    let best: number | undefined;
    for (const [i, fn] of fns.entries()) {
      const list: SkippedWallTime[] = [];
      const next = fn(after, (s) => list.push(s));
      skipped.set(i, list);
      if (next !== undefined && (best === undefined || next < best)) best = next;
    }
    if (best === undefined || (endAt !== undefined && best > endAt)) break;
    if (until !== undefined && best >= until.getTime()) break;
    const notes = [ambiguityNote(best, zone)];
    const skippedHere = [...skipped.values()]
      .flat()
      .filter((s) => Date.UTC(s.year, s.month - 1, s.day, s.hour) <= best + 86_400_000);
    if (skippedHere.length) notes.push(skippedNote(skippedHere, zone));
    const dst = notes.filter(Boolean).join('; ');
    runs.push({
      at: new Date(best).toISOString().replace('.000Z', 'Z'),
      local: formatLocal(best, zone),
      ...(dst ? { dst } : {}),
    });
    after = best;
  }
  return runs;
}
