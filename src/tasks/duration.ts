import { z } from 'zod';

const units = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 } as const;
/** The longest duration a spec may name: 100 years (36500d), far beyond any sensible policy, well within Temporal's. */
export const MAX_DURATION_MS = 36_500 * units.d;
const durationPattern = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/;

/**
 * Parses a duration such as `"90s"`, `"5m"`, `"1h30m"` or `"250ms"` into milliseconds. Units must appear in
 * descending order, each at most once; signs, decimals and bare numbers are refused.
 * @returns the milliseconds, or undefined when the text is not a duration.
 */
export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text);
  if (!match || text === '') return undefined;
  const [, d, h, m, s, ms] = match;
  return (
    Number(d ?? 0) * units.d +
    Number(h ?? 0) * units.h +
    Number(m ?? 0) * units.m +
    Number(s ?? 0) * units.s +
    Number(ms ?? 0)
  );
}

/** Formats milliseconds as the shortest duration text `parseDuration` reads back. */
export function formatDuration(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms < 0)
    throw new RangeError(`${ms} is not a whole, non-negative number of milliseconds`);
  if (ms === 0) return '0s';
  let rest = ms;
  let text = '';
  for (const [unit, size] of Object.entries(units)) {
    const count = Math.floor(rest / size);
    if (count > 0) text += `${count}${unit}`;
    rest -= count * size;
  }
  return text;
}

/** A duration string (`"90s"`, `"1h30m"`); `min` in milliseconds. Parses to the original string. */
export function duration({ min = 0, positive = true }: { min?: number; positive?: boolean } = {}) {
  return z.string().superRefine((text, ctx) => {
    const ms = parseDuration(text);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration; use e.g. "90s", "5m", "1h30m", "250ms"` });
    } else if (positive && ms === 0) {
      ctx.addIssue({ code: 'custom', message: 'must be greater than zero' });
    } else if (ms < min) {
      ctx.addIssue({ code: 'custom', message: `must be at least ${formatDuration(min)}` });
    } else if (ms > MAX_DURATION_MS) {
      ctx.addIssue({ code: 'custom', message: `must be at most ${formatDuration(MAX_DURATION_MS)}` });
    }
  });
}
