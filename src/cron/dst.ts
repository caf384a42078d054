/**
 * DST policies: which instants a calendar rule fires at when a wall time it names does not exist (spring
 * forward) or exists twice (fall back). This is surecron's definition of a schedule's fires; the server's own
 * walk (`next.ts`) differs around transitions, and `tasks/dst-corrections.ts` makes up the difference.
 *
 * - A rule whose hour field is a wildcard or a step follows real time: it fires at every instant whose wall time
 *   matches, so a wall time in a gap does not fire and one in a repeated stretch fires in both copies.
 * - Any other rule names fixed wall times, and the policy decides: `skipped: 'shift'` fires a wall time in a gap
 *   at the first instant after the gap (the transition), `'skip'` drops it; `repeated: 'once'` fires a repeated
 *   wall time in its first copy only, `'twice'` in both.
 */
import type { CompiledRule } from './next.js';
import type { CronRule } from './parse.js';
import { transitionsBetween, zoneOffset, type Transition } from './tz.js';

export type { Transition };

const HOUR = 3_600_000;
const DAY = 86_400_000;

export interface DstPolicy {
  skipped: 'shift' | 'skip';
  repeated: 'once' | 'twice';
}

/** The classic cron rule (Vixie cron, cronie): shift out of a gap, fire once in a repeated hour. */
export const defaultDstPolicy: DstPolicy = { skipped: 'shift', repeated: 'once' };

/** How a wall time (its fields read as UTC, `wallMs`) resolves: the instants that show it, and a gap's end. */
export interface WallResolution {
  instants: number[];
  /** For a wall time in a gap: the transition (first instant after the gap). */
  gapEnd?: number;
}

/** Every instant whose wall time in `zone` is `wallMs`, given the transitions near it. */
export function resolveWall(zone: string, wallMs: number, near: readonly Transition[]): WallResolution {
  const offsets = new Set<number>([zoneOffset(zone, wallMs)]);
  for (const tr of near) offsets.add(tr.before).add(tr.after);
  const instants = [...offsets]
    .map((offset) => wallMs - offset)
    .filter((instant) => zoneOffset(zone, instant) === wallMs - instant)
    .sort((a, b) => a - b);
  if (instants.length > 0) return { instants };
  const gap = near.find((tr) => tr.after > tr.before && wallMs >= tr.atMs + tr.before && wallMs < tr.atMs + tr.after);
  return gap ? { instants, gapEnd: gap.atMs } : { instants };
}

/** A wall time a DST change touched, and what the rule's policy made of it. */
export interface WallEvent {
  wallMs: number;
  /** Where the event sits in time: its first fire, or the gap's end when the wall time was skipped. */
  atMs: number;
  change: 'gap' | 'repeat';
  applied: DstPolicy['skipped'] | DstPolicy['repeated'];
  /** The rule follows real time (hour field a wildcard or step): the policy did not apply. */
  followsRealTime: boolean;
  firedAt: number[];
}

const weekday = (wallDayMs: number): number => new Date(wallDayMs).getUTCDay();

function* wallTimesOfDay(rule: CronRule, dayMs: number): Generator<number> {
  for (const h of rule.hour) {
    for (const m of rule.minute) {
      for (const s of rule.second) yield dayMs + h * HOUR + m * 60_000 + s * 1000;
    }
  }
}

function dayMatches(rule: CompiledRule, dayMs: number): boolean {
  const date = new Date(dayMs);
  return (
    rule.year(date.getUTCFullYear()) &&
    rule.month.has(date.getUTCMonth() + 1) &&
    rule.dayOfMonth.has(date.getUTCDate()) &&
    rule.dayOfWeek.has(weekday(dayMs))
  );
}

/** The instants a wall time fires at under a policy (sorted), and the event when a DST change touched it. */
function firesOfWall(
  zone: string,
  wallMs: number,
  near: readonly Transition[],
  policy: DstPolicy,
  followsRealTime: boolean,
): { instants: number[]; event?: WallEvent } {
  const { instants, gapEnd } = resolveWall(zone, wallMs, near);
  if (instants.length === 1) return { instants };
  if (instants.length === 0) {
    if (gapEnd === undefined) return { instants };
    const shift = !followsRealTime && policy.skipped === 'shift';
    const firedAt = shift ? [gapEnd] : [];
    return {
      instants: firedAt,
      event: { wallMs, atMs: gapEnd, change: 'gap', applied: shift ? 'shift' : 'skip', followsRealTime, firedAt },
    };
  }
  const twice = followsRealTime || policy.repeated === 'twice';
  const firedAt = twice ? instants : instants.slice(0, 1);
  return {
    instants: firedAt,
    event: {
      wallMs,
      atMs: instants[0] as number,
      change: 'repeat',
      applied: twice ? 'twice' : 'once',
      followsRealTime,
      firedAt,
    },
  };
}

/**
 * A rule's fires strictly after `afterMs`, in order, under a DST policy: an endless generator (it ends only
 * when the rule's years run out). `onEvent` hears of every wall time a DST change touched, fired or not.
 */
export function* policyFires(
  source: CronRule,
  rule: CompiledRule,
  zone: string,
  policy: DstPolicy,
  afterMs: number,
  onEvent?: (event: WallEvent) => void,
): Generator<number> {
  const followsRealTime = source.followsRealTime === true;
  let last = afterMs;
  const lastYear = source.year ? Math.max(...source.year) : 2100;
  // Local days from the one before `afterMs` (any offset): a fire's wall date can precede its UTC date.
  let dayMs = Math.floor((afterMs - 14 * HOUR) / DAY) * DAY;
  for (; new Date(dayMs).getUTCFullYear() <= lastYear; dayMs += DAY) {
    if (!dayMatches(rule, dayMs)) continue;
    const near = transitionsBetween(zone, dayMs - 16 * HOUR, dayMs + DAY + 16 * HOUR);
    if (near.length === 0) {
      const offset = zoneOffset(zone, dayMs);
      for (const wall of wallTimesOfDay(source, dayMs)) {
        if (wall - offset > last) yield (last = wall - offset);
      }
      continue;
    }
    const day: number[] = [];
    for (const wall of wallTimesOfDay(source, dayMs)) {
      const { instants, event } = firesOfWall(zone, wall, near, policy, followsRealTime);
      if (event && event.atMs > afterMs) onEvent?.(event);
      day.push(...instants);
    }
    // In a repeated hour the second copy of an earlier wall time comes after later ones: sort the day. A gap's
    // end can be the shifted fire of wall times on two days: yield it once.
    for (const instant of day.sort((a, b) => a - b)) if (instant > last) yield (last = instant);
  }
}
