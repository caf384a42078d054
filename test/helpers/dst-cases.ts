/**
 * The expressions and zones of the DST oracle comparison: every zone with an offset change between 2026 and
 * 2036, and expressions covering fixed times, wildcard and stepped hours, dom/dow, `#`, every dialect, macros and
 * `@every`.
 */
import { parseCron } from '../../src/cron/parse.js';
import { oracleTransitions, wallAt } from './dst-oracle.js';

export const ORACLE_FROM = Date.UTC(2026, 0, 1);
export const ORACLE_TO = Date.UTC(2037, 0, 1);
/** Around each transition: the policy and the server's walk differ only within 2 h of it. */
export const ORACLE_WINDOW_MS = 3 * 3_600_000;

export const oracleExpressions = [
  // fixed times
  '30 2 * * *',
  '30 1 * * *',
  '0 2 * * *',
  '0 3 * * *',
  '0 0 * * *',
  '59 23 * * *',
  '0 1-3 * * *',
  '*/20 2 * * *',
  // dom / dow / #
  '0 2 * * 0',
  '0 2 1,8,15,22,29 * *',
  '30 2 * * 0#1',
  '0 30 2 ? * 1#2 *',
  // seconds-first (robfig WithSeconds)
  '30 30 2 * * *',
  // macros
  '@daily',
  '@weekly',
  '@monthly',
  '@hourly',
  // wildcard and stepped hours
  '*/15 * * * *',
  '0 * * * *',
  '30 * * * *',
  '0 */2 * * *',
  '15 1-23/2 * * *',
  '@every 90m',
] as const;

export const oraclePolicies = [
  { skipped: 'shift', repeated: 'once' },
  { skipped: 'skip', repeated: 'twice' },
  { skipped: 'shift', repeated: 'twice' },
  { skipped: 'skip', repeated: 'once' },
] as const;

/** Always compared: east and west, both hemispheres, half-hour and negative DST. */
const namedZones = new Set([
  'Europe/Berlin',
  'America/New_York',
  'America/Los_Angeles',
  'Australia/Sydney',
  'America/Santiago',
  'Australia/Lord_Howe',
  'Europe/Dublin',
  'Pacific/Auckland',
  'Antarctica/Troll',
]);

/**
 * Every IANA zone whose UTC offset changes between 2026 and 2036, with its transitions (weekly samples). `npm test`
 * compares the named zones and every fourth other one; `npm run test:dst` (`DST_ORACLE=full`) compares them all.
 */
export function oracleZones(): { zone: string; transitions: number[] }[] {
  const week = 7 * 86_400_000;
  const zones: { zone: string; transitions: number[] }[] = [];
  const full = process.env.DST_ORACLE === 'full';
  for (const [i, zone] of Intl.supportedValuesOf('timeZone').entries()) {
    if (!full && !namedZones.has(zone) && i % 4 !== 0) continue;
    const changed: number[] = [];
    let previous = wallAt(zone, ORACLE_FROM) - ORACLE_FROM;
    for (let t = ORACLE_FROM + week; t <= ORACLE_TO; t += week) {
      const offset = wallAt(zone, t) - t;
      if (offset !== previous) changed.push(t - week);
      previous = offset;
    }
    if (changed.length === 0) continue;
    zones.push({ zone, transitions: changed.flatMap((t) => oracleTransitions(zone, t, t + week + 1)) });
  }
  return zones;
}

/** Windows around transitions, merged where they overlap. */
export function oracleWindows(transitions: readonly number[]): [number, number][] {
  const windows: [number, number][] = [];
  for (const t of transitions) {
    const last = windows.at(-1);
    if (last && t - ORACLE_WINDOW_MS <= last[1]) last[1] = t + ORACLE_WINDOW_MS;
    else windows.push([t - ORACLE_WINDOW_MS, t + ORACLE_WINDOW_MS]);
  }
  return windows;
}

/** The second offsets the expressions fire at, so an oracle window reads wall clocks there too. */
export function oracleSeconds(): number[] {
  const seconds = oracleExpressions.flatMap((expression) => {
    const parsed = parseCron(expression);
    return parsed.ok && parsed.value.kind === 'calendar' ? parsed.value.rules.flatMap((rule) => rule.second) : [0];
  });
  return [...new Set(seconds)];
}

/**
 * New York, 01:30 and 02:30 under skip/once: 2027-03-14 02:30 does not exist (dropped; the server never fires it);
 * 2027-11-07 01:30 exists twice (05:30Z EDT, 06:30Z EST), the server fires both and the second is a DST skip.
 */
export const newYorkSkipOnce = {
  cron: ['30 1 * * *', '30 2 * * *'],
  timezone: 'America/New_York',
  dst: { skipped: 'skip', repeated: 'once' },
} as const;
