import type { RunRecord } from './protocol.js';

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? null;
}

export interface FireStats {
  /** Fires due in the window (schedules × slots). */
  expected: number;
  /** Distinct fires of the window that ran (by the end of the drain). */
  executed: number;
  missed: number;
  /** Runs beyond the first of one (schedule, nominal time). */
  duplicates: number;
  /** Lateness = handler start − nominal time, over every run of the window's fires, ms. */
  latenessMs: { p50: number | null; p95: number | null; p99: number | null; max: number | null; mean: number | null };
  /** Runs that started inside the window, per second of window. */
  runsPerSec: number;
  /** What the schedules ask for: size / 10 s. */
  dueRunsPerSec: number;
}

export function fireStats(
  records: readonly RunRecord[],
  expected: number,
  startedInWindow: number,
  windowMs: number,
  size: number,
  periodSeconds: number,
): FireStats {
  const keys = new Set(records.map(([i, nominal]) => `${i}@${nominal}`));
  const lateness = records.map(([, nominal, start]) => start - nominal).sort((a, b) => a - b);
  const mean = lateness.length ? lateness.reduce((a, b) => a + b, 0) / lateness.length : null;
  return {
    expected,
    executed: keys.size,
    missed: expected - keys.size,
    duplicates: records.length - keys.size,
    latenessMs: {
      p50: percentile(lateness, 50),
      p95: percentile(lateness, 95),
      p99: percentile(lateness, 99),
      max: lateness.at(-1) ?? null,
      mean: mean === null ? null : Math.round(mean * 10) / 10,
    },
    runsPerSec: Math.round((startedInWindow / (windowMs / 1000)) * 100) / 100,
    dueRunsPerSec: size / periodSeconds,
  };
}
