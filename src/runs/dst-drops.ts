/**
 * Fires a DST policy dropped: a wall time a `skip` policy left out of a gap, the second copy of a repeated wall time
 * under `once`. The server may never be asked to fire them, or fire them and have `runTask` end the run at once
 * (`dst_skipped`); either way they are no missed runs.
 */
import { transitionsBetween } from '../cron/tz.js';
import { offsetAt } from '../cron/zone.js';
import { scheduleFires, type DstEvent } from '../tasks/fires.js';
import { describeDstEvent } from '../tasks/preview.js';
import { scheduleTimezone } from '../tasks/schedule-def.js';
import type { ScheduleDef } from '../tasks/spec.js';

/** DST events lie within hours of the instants they concern. */
export const DST_REACH_MS = 3 * 3_600_000;

/** The instant(s) a DST event is about that no fire took place at: a skipped wall time, a repeat's second copy. */
export function droppedInstants(event: DstEvent, zone: string): number[] {
  const wallMs = Date.parse(`${event.wall}Z`);
  const around = Date.parse(event.at);
  // The wall time read with the offset before and after the transition.
  const readings = [...new Set([offsetAt(around - DST_REACH_MS, zone), offsetAt(around + DST_REACH_MS, zone)])].map(
    (offset) => wallMs - offset,
  );
  const fired = new Set(event.firedAt.map((time) => Date.parse(time)));
  if (event.applied === 'skip' && fired.size === 0) return [...new Set([around, ...readings])];
  if (event.applied === 'once' && event.change === 'repeat') return readings.filter((t) => !fired.has(t));
  return [];
}

/** A fire a DST policy dropped. */
export interface DstDrop {
  /** Where the ledger lists it: a skipped gap's end, a repeat's second copy. */
  at: number;
  /** Every instant a run of it could carry as nominal time ({@link droppedInstants}). */
  instants: number[];
  event: DstEvent;
  /** What the policy did, as the preview says it. */
  note: string;
}

/** The fires a schedule's DST policy dropped in `[fromMs, toMs)`, walked only around the zone's transitions. */
export function policyDrops(schedule: ScheduleDef, fromMs: number, toMs: number): DstDrop[] {
  if (schedule.cron === undefined) return [];
  const zone = scheduleTimezone(schedule);
  const drops = new Map<string, DstDrop>();
  for (const { atMs } of transitionsBetween(zone, fromMs - DST_REACH_MS, toMs + DST_REACH_MS)) {
    for (const event of scheduleFires(schedule, atMs - DST_REACH_MS, atMs + DST_REACH_MS).dstEvents) {
      const instants = droppedInstants(event, zone);
      if (instants.length === 0) continue;
      const at = event.change === 'gap' ? Date.parse(event.at) : Math.min(...instants);
      const note = describeDstEvent(event, zone);
      if (at >= fromMs && at < toMs) drops.set(`${event.wall}@${event.at}`, { at, instants, event, note });
    }
  }
  return [...drops.values()].sort((a, b) => a.at - b.at);
}
