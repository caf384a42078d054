/**
 * Wall-clock arithmetic in IANA time zones, with Go's `time.Date` rules: the Temporal server is written in Go,
 * and surecron's preview must land on exactly the instants the server fires.
 */
import { zoneOffset } from './tz.js';

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

/** The wall time at `instantMs` in `zone` (whole seconds). */
export function wallTime(instantMs: number, zone: string): WallTime {
  const t = Math.floor(instantMs / 1000) * 1000;
  const d = new Date(t + zoneOffset(zone, t));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    hour: d.getUTCHours(),
    minute: d.getUTCMinutes(),
    second: d.getUTCSeconds(),
    weekday: d.getUTCDay(),
  };
}

/** UTC offset in milliseconds at `instantMs` in `zone`. */
export function offsetAt(instantMs: number, zone: string): number {
  return zoneOffset(zone, Math.floor(instantMs / 1000) * 1000);
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
