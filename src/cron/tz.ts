/**
 * UTC offsets of IANA zones: tzdata is read through `Intl` once per zone and year (a scan for offset changes),
 * and every later lookup is arithmetic over that table, which keeps wall-clock walks fast.
 */

const HOUR = 3_600_000;
const SCAN_STEP = 6 * HOUR;
const zoneYears = new Map<string, ZoneYear>();
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The UTC offset at an instant as tzdata (via `Intl`) gives it, in milliseconds. */
export function intlOffset(instantMs: number, zone: string): number {
  let format = formatters.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, format);
  }
  const t = Math.floor(instantMs / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(t))) p[part.type] = Number(part.value);
  return Date.UTC(p.year ?? 0, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - t;
}

/** A change of a zone's UTC offset. */
export interface Transition {
  atMs: number;
  /** Offsets in milliseconds before and after `atMs`. */
  before: number;
  after: number;
}

interface ZoneYear {
  startOffset: number;
  transitions: Transition[];
}

function findTransition(zone: string, lo: number, hi: number): Transition {
  const before = intlOffset(lo, zone);
  const after = intlOffset(hi, zone);
  while (hi - lo > 1000) {
    const mid = lo + Math.floor((hi - lo) / 2000) * 1000;
    if (intlOffset(mid, zone) === before) lo = mid;
    else hi = mid;
  }
  return { atMs: hi, before, after };
}

/** The offset at the start of a UTC year and the transitions during it, scanned from tzdata once per zone-year. */
function zoneYear(zone: string, year: number): ZoneYear {
  const key = `${zone}|${year}`;
  let entry = zoneYears.get(key);
  if (!entry) {
    const start = Date.UTC(year, 0, 1);
    const end = Date.UTC(year + 1, 0, 1);
    const transitions: Transition[] = [];
    let previous = intlOffset(start, zone);
    for (let t = start; t < end; t += SCAN_STEP) {
      const next = Math.min(t + SCAN_STEP, end);
      const offset = intlOffset(next, zone);
      if (offset !== previous) transitions.push(findTransition(zone, t, next));
      previous = offset;
    }
    // A transition exactly at the year's end belongs to the next year.
    entry = { startOffset: intlOffset(start, zone), transitions: transitions.filter((tr) => tr.atMs < end) };
    zoneYears.set(key, entry);
  }
  return entry;
}

/** Transitions with `fromMs <= atMs < toMs`. */
export function transitionsBetween(zone: string, fromMs: number, toMs: number): Transition[] {
  if (zone === 'UTC') return [];
  const list: Transition[] = [];
  for (let year = new Date(fromMs).getUTCFullYear(); year <= new Date(toMs).getUTCFullYear(); year++) {
    for (const tr of zoneYear(zone, year).transitions) if (tr.atMs >= fromMs && tr.atMs < toMs) list.push(tr);
  }
  return list;
}

/** The UTC offset at an instant, from the cached transition table (no tzdata lookup per call). */
export function zoneOffset(zone: string, atMs: number): number {
  if (zone === 'UTC') return 0;
  const { startOffset, transitions } = zoneYear(zone, new Date(atMs).getUTCFullYear());
  let offset = startOffset;
  for (const tr of transitions) {
    if (tr.atMs > atMs) break;
    offset = tr.after;
  }
  return offset;
}
