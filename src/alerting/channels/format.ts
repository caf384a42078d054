import { type Alert } from '../../contract/alert.js';

/** `[P1] run_failed: <taskId>` */
export const alertTitle = (alert: Alert): string => `[${alert.severity}] ${alert.event}: ${alert.taskId}`;

/** `[P1] run_failed: <taskId> — <summary>` */
export const alertLine = (alert: Alert): string => `${alertTitle(alert)} — ${alert.summary}`;

/** Cuts `text` to at most `max` characters, marking the cut with `…`. */
export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, Math.max(0, max - 1))}…` : text;
}

/** Cuts `text` to at most `maxBytes` UTF-8 bytes without splitting a character. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  let out = '';
  let bytes = 0;
  for (const char of text) {
    const size = Buffer.byteLength(char);
    if (bytes + size > maxBytes - 3) break; // room for '…' (3 bytes)
    out += char;
    bytes += size;
  }
  return `${out}…`;
}

/** A detail value as text: strings verbatim, errors as `Name: message`, anything else as JSON. */
export function detailText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The alert's details as `[key, text]` pairs (undefined values dropped), each value cut to `maxChars`. */
export function detailEntries(alert: Alert, maxChars = 500): [string, string][] {
  return Object.entries(alert.details)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => [key, truncate(detailText(value), maxChars)]);
}

/** JSON.stringify that keeps Error details (`{ name, message }`) and writes bigints as strings. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v instanceof Error) return { name: v.name, message: v.message };
    return typeof v === 'bigint' ? v.toString() : v;
  });
}
