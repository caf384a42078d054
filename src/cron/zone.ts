/**
 * Wall-clock arithmetic in IANA time zones, with Go's `time.Date` rules: the Temporal server is written in Go,
 * and surecron's preview must land on exactly the instants the server fires.
 */

export interface WallTime {
  year: number;
  /** 1–12. */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday. */
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const weekdays: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

function formatter(zone: string): Intl.DateTimeFormat {
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
      weekday: 'short',
    });
    formatters.set(zone, format);
  }
  return format;
}

/** The wall time at `instantMs` in `zone` (whole seconds). */
export function wallTime(instantMs: number, zone: string): WallTime {
  const parts: Record<string, string> = {};
  for (const part of formatter(zone).formatToParts(new Date(instantMs))) parts[part.type] = part.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: weekdays[parts.weekday ?? ''] ?? 0,
  };
}

/** UTC offset in milliseconds at `instantMs` in `zone`. */
export function offsetAt(instantMs: number, zone: string): number {
  const t = Math.floor(instantMs / 1000) * 1000;
  const w = wallTime(t, zone);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - t;
}

/**
 * Go's `time.Date(y, mo, d, h, mi, s, 0, zone)`: out-of-range fields are normalised (hour 24 is the next day),
 * and a wall time is resolved by looking up the offset in force at "the wall time read as UTC", corrected once
 * if that offset does not hold at the result. For a wall time that does not exist this lands an hour off; for
 * one that exists twice it picks the first copy west of UTC and the second east of it — exactly as the server.
 */
export function goDate(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  zone: string,
): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  let offset = offsetAt(local, zone);
  if (offset !== 0) {
    const utc = local - offset;
    if (offsetAt(utc, zone) !== offset) offset = offsetAt(utc, zone);
    return local - offset;
  }
  return local;
}

/** `2027-03-14T03:30:00-04:00`: the wall time at an instant, with its offset. */
export function formatLocal(instantMs: number, zone: string): string {
  const w = wallTime(instantMs, zone);
  const offset = offsetAt(instantMs, zone) / 60_000;
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0');
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}

export function daysInMonth(month: number, year: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
