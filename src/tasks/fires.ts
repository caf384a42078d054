import { previewSchedule } from './preview.js';
import type { ScheduleDef } from './spec.js';

/** What a DST policy did to one fire written in a schedule. */
export interface DstEvent {
  /** The wall time the expression names, `2027-03-14T02:30:00` (no offset: it may not exist, or exist twice). */
  wall: string;
  /** `gap`: the wall time does not exist (spring forward); `repeat`: it exists twice (fall back). */
  change: 'gap' | 'repeat';
  /** What the policy did: shifted to the gap's end, skipped, fired once (first copy) or twice. */
  applied: 'shift' | 'skip' | 'once' | 'twice';
  /** The instants it fired at (ISO 8601 UTC); empty when skipped. */
  firedAt: string[];
}

/** One nominal fire time. */
export interface Fire {
  atMs: number;
  /** Set when a DST policy decided this fire. */
  dst?: DstEvent;
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
  const runs = previewSchedule(schedule, {
    from: new Date(fromMs - 1000),
    count: Number.MAX_SAFE_INTEGER,
    until: new Date(toMs),
  });
  return { fires: runs.map((run) => ({ atMs: Date.parse(run.at) })), dstEvents: [] };
}
