import { formatLocal } from '../cron/zone.js';
import { parseDuration } from './duration.js';
import { fireStream, type DstEvent, type FireSemantics } from './fires.js';
import { scheduleTimezone } from './schedule-def.js';
import type { ScheduleDef } from './spec.js';

/** One upcoming fire time. */
export interface PreviewRun {
  /** Nominal UTC instant, ISO 8601: the run's nominal time and idempotency key, jitter or not. */
  at: string;
  /** Wall time in the schedule's time zone, with its offset. */
  local: string;
  /** With `jitter`: the run starts somewhere in [at, jitterUntil), and is on time anywhere in it. */
  jitterUntil?: string;
  /** Set around DST transitions: what the policy did to this fire, or to one it skipped just before it. */
  dst?: string;
  /** The DST events behind `dst`: this fire's own, and those of fires skipped since the previous one. */
  dstEvents?: DstEvent[];
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const clock = (wall: string): string => wall.replace('T', ' ');

/** One line for a DST event, naming the policy rule that decided it. */
export function describeDstEvent(event: DstEvent, zone: string): string {
  const wall = clock(event.wall);
  const rule = event.followsRealTime ? 'the hour field is a wildcard or step, so it follows real time' : undefined;
  if (event.change === 'gap') {
    return event.applied === 'shift'
      ? `${wall} does not exist in ${zone} (clocks spring forward): shifted to the end of the gap (dst.skipped: shift)`
      : `${wall} does not exist in ${zone} (clocks spring forward): skipped (${rule ?? 'dst.skipped: skip'})`;
  }
  return event.applied === 'once'
    ? `${wall} occurs twice in ${zone} (clocks fall back): runs once, in the first occurrence (dst.repeated: once)`
    : `${wall} occurs twice in ${zone} (clocks fall back): runs in both occurrences (${rule ?? 'dst.repeated: twice'})`;
}

/**
 * The next `count` fire times of a schedule strictly after `from`, without creating anything: nominal times,
 * with the DST policy applied (`policy`, what surecron makes happen; the default) or as the server's own
 * calendar walk yields them (`server`).
 * @throws {Error} when the schedule cannot be evaluated (an invalid cron expression).
 */
export function previewSchedule(
  schedule: ScheduleDef,
  {
    from = new Date(),
    count = 10,
    until,
    semantics = 'policy',
  }: { from?: Date; count?: number; until?: Date; semantics?: FireSemantics } = {},
): PreviewRun[] {
  const zone = scheduleTimezone(schedule);
  const startAt = schedule.startAt ? Date.parse(schedule.startAt) : undefined;
  const endAt = schedule.endAt ? Date.parse(schedule.endAt) : undefined;
  const jitterMs = schedule.jitter ? (parseDuration(schedule.jitter) ?? 0) : 0;
  let after = from.getTime();
  if (startAt !== undefined && after < startAt) after = startAt - 1000;
  let pending: DstEvent[] = [];
  const runs: PreviewRun[] = [];
  if (count <= 0) return runs;
  for (const at of fireStream(schedule, after, semantics, (event) => pending.push(event))) {
    if ((endAt !== undefined && at > endAt) || (until !== undefined && at >= until.getTime())) break;
    const events = pending.filter((event) => Date.parse(event.at) <= at);
    pending = pending.filter((event) => Date.parse(event.at) > at);
    const notes = events.map((event) => describeDstEvent(event, zone));
    runs.push({
      at: iso(at),
      local: formatLocal(at, zone),
      ...(jitterMs > 0 ? { jitterUntil: iso(at + jitterMs) } : {}),
      ...(notes.length ? { dst: notes.join('; '), dstEvents: events } : {}),
    });
    if (runs.length >= count) break;
  }
  return runs;
}
