/**
 * The DST policy written from its definition, over tzdata, sharing no code with surecron's translation: it reads
 * wall clocks instant by instant through its own `Intl.DateTimeFormat` and decides each instant by the rule's
 * words. Slow and obvious on purpose. Only the cron parser is shared (it is tested on its own).
 */
import { parseCron, type CronRule } from '../../src/cron/parse.js';

export interface OraclePolicy {
  skipped: 'shift' | 'skip';
  repeated: 'once' | 'twice';
}

const MINUTE = 60_000;
const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall clock at an instant, as "its fields read as UTC" milliseconds. */
export function wallAt(zone: string, atMs: number): number {
  let format = formats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formats.set(zone, format);
  }
  const p = Object.fromEntries(format.formatToParts(new Date(atMs)).map((part) => [part.type, Number(part.value)]));
  return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
}

/** Instants (whole minutes) in [fromMs, toMs) at which the zone's offset changes. */
export function oracleTransitions(zone: string, fromMs: number, toMs: number): number[] {
  const found: number[] = [];
  const step = 6 * 3_600_000;
  const offset = (t: number): number => wallAt(zone, t) - t;
  for (let t = fromMs; t < toMs; t += step) {
    if (offset(t) === offset(Math.min(t + step, toMs))) continue;
    for (let m = t + MINUTE; m <= Math.min(t + step, toMs); m += MINUTE) {
      if (offset(m) !== offset(m - MINUTE) && m < toMs) found.push(m);
    }
  }
  return found;
}

function matches(rule: CronRule, wallMs: number): boolean {
  const d = new Date(wallMs);
  return (
    (!rule.year || rule.year.includes(d.getUTCFullYear())) &&
    rule.month.includes(d.getUTCMonth() + 1) &&
    rule.dayOfMonth.includes(d.getUTCDate()) &&
    rule.dayOfWeek.includes(d.getUTCDay()) &&
    rule.hour.includes(d.getUTCHours()) &&
    rule.minute.includes(d.getUTCMinutes()) &&
    rule.second.includes(d.getUTCSeconds())
  );
}

/** A precomputed stretch of wall clocks, shared by every expression checked over it. */
export interface OracleWindow {
  zone: string;
  instants: number[];
  walls: number[];
  /** The wall time was shown earlier (within 3 h): a second copy. */
  repeatCopy: boolean[];
  /** For an instant right after a gap: the wall times the gap skipped (at the window's seconds). */
  gapBefore: Map<number, number[]>;
}

/**
 * Wall clocks over [fromMs, toMs) at every minute plus the given second offsets. The window must start at least
 * 3 h before any transition it holds.
 */
export function oracleWindow(zone: string, fromMs: number, toMs: number, seconds: readonly number[]): OracleWindow {
  const offsets = [...new Set([0, ...seconds])].sort((a, b) => a - b);
  const instants: number[] = [];
  for (let minute = fromMs; minute < toMs; minute += MINUTE) {
    for (const s of offsets) instants.push(minute + s * 1000);
  }
  const walls = instants.map((t) => wallAt(zone, t));
  // A window starts hours before its transition, so a repeated wall time's first copy is inside it.
  const seen = new Set<number>();
  const repeatCopy = walls.map((wall) => seen.has(wall) || (seen.add(wall), false));
  const gapBefore = new Map<number, number[]>();
  for (let minute = fromMs; minute < toMs; minute += MINUTE) {
    const previous = wallAt(zone, minute - MINUTE);
    const now = wallAt(zone, minute);
    if (now - previous <= MINUTE) continue;
    const skipped: number[] = [];
    for (let w = previous + MINUTE; w < now; w += MINUTE) for (const s of offsets) skipped.push(w + s * 1000);
    gapBefore.set(minute, skipped);
  }
  return { zone, instants, walls, repeatCopy, gapBefore };
}

/** The instants in the window at which `expression` fires under `policy`, by the policy's definition. */
export function oracleFires(window: OracleWindow, expression: string, policy: OraclePolicy): number[] {
  const parsed = parseCron(expression);
  if (!parsed.ok) throw new Error(parsed.error);
  const cron = parsed.value;
  const fires = new Set<number>();
  if (cron.kind === 'interval') {
    for (const t of window.instants) if (t % cron.everyMs === 0) fires.add(t);
    return [...fires].sort((a, b) => a - b);
  }
  for (const rule of cron.rules) {
    // "Wildcard or step in the hour field": the rule follows real time.
    const realTime = rule.followsRealTime === true;
    window.instants.forEach((t, i) => {
      const wall = window.walls[i] as number;
      if (!matches(rule, wall)) return;
      if (!realTime && policy.repeated === 'once' && window.repeatCopy[i]) return;
      fires.add(t);
    });
    if (realTime || policy.skipped === 'skip') continue;
    for (const [t, skipped] of window.gapBefore) if (skipped.some((w) => matches(rule, w))) fires.add(t);
  }
  return [...fires].sort((a, b) => a - b);
}
