import type { Client } from '@temporalio/client';
import { allPages } from '../temporal/visibility.js';
import { previewSchedule } from '../tasks/preview.js';
import { listAudit, type AuditEntry } from '../tasks/audit.js';
import type { TaskSpec } from '../tasks/spec.js';
import { policyDrops, type DstDrop } from './dst-drops.js';
import { listRuns, type Run } from './runs.js';

export const ledgerOutcomes = [
  'succeeded',
  'failed',
  'running',
  'pending',
  'skipped_overlap',
  'missed',
  'paused',
  'dst_skipped',
] as const;
export type LedgerOutcome = (typeof ledgerOutcomes)[number];

export interface LedgerItem {
  nominalTime: string;
  outcome: LedgerOutcome;
  workflowId?: string;
  attempts?: number;
  /** A fire retried by hand (a dead letter's `retry`): every run of it, oldest first; the outcome is the best. */
  tries?: { runId: string; status: string; attempts: number; trigger: string; startedAt: string }[];
  /** With `dst_skipped`: what the DST policy did, as the preview says it. */
  dst?: string;
}

export interface LedgerSummary {
  expected: number;
  succeeded: number;
  failed: number;
  running: number;
  skipped: number;
  missed: number;
  duplicates: number;
  /** Fires the DST policy dropped (`dst_skipped`): never expected, never missed. */
  dstSkipped: number;
}

/** The task as it was over a stretch of time, rebuilt from the audit trail. */
export interface SpecSegment {
  from: number;
  to: number;
  spec?: TaskSpec;
  paused: boolean;
}

/** A fire the spec implied, and whether the task was paused then. */
export interface ExpectedFire {
  at: number;
  paused: boolean;
  overlap: TaskSpec['overlap'];
}

/** A fire younger than this with no run yet is pending, not missed: the scheduler starts runs a moment late. */
export const PENDING_GRACE_MS = 15_000;
/** Overlap policies under which a fire that finds a run still going is dropped rather than queued. */
const dropsWhenBusy = new Set<TaskSpec['overlap']>(['skip', 'buffer_one']);

/**
 * True when a fire at `at` without a run of its own was dropped by the overlap policy: another run of the task was
 * going then, under `skip` (or `buffer_one` beyond the one it keeps). A run holds the schedule from its nominal time
 * on, not only from its start: a buffered fire starts when the run before it ends, and the scheduler takes the fire
 * due at that same instant after it.
 */
export function skippedByOverlap(overlap: TaskSpec['overlap'], runs: readonly Run[], at: number): boolean {
  return (
    dropsWhenBusy.has(overlap) &&
    runs.some(
      (run) =>
        Math.min(Date.parse(run.nominalTime), Date.parse(run.startedAt)) <= at &&
        (run.closedAt === undefined || Date.parse(run.closedAt) > at),
    )
  );
}
/** Upper bound of fires one ledger request lists. */
export const MAX_LEDGER_FIRES = 10_000;

/** Thrown when a window would list more fires than `MAX_LEDGER_FIRES`. */
export class LedgerWindowTooLargeError extends Error {}

/**
 * Rebuilds the task's spec and pause state over time from its audit entries (oldest first): creates and updates
 * set the spec, pauses and resumes the state, deletes end it. Before the first entry the task did not exist.
 */
export function specTimeline(entries: readonly AuditEntry[], end: number): SpecSegment[] {
  const segments: SpecSegment[] = [];
  let spec: TaskSpec | undefined;
  let paused = false;
  let since = Number.NEGATIVE_INFINITY;
  const close = (at: number): void => {
    if (at > since) segments.push({ from: since, to: at, spec, paused });
    since = at;
  };
  for (const entry of [...entries].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    const at = Date.parse(entry.at);
    const after = entry.after as (TaskSpec & { paused?: boolean }) | { paused: boolean } | undefined;
    switch (entry.action) {
      case 'create':
      case 'update':
      case 'apply':
        close(at);
        if (after && 'schedule' in after) {
          const before = entry.before as TaskSpec | undefined;
          if (!spec || !before || before.paused !== after.paused) paused = after.paused;
          spec = after;
        } else {
          spec = undefined;
        }
        break;
      case 'delete':
        close(at);
        spec = undefined;
        break;
      case 'pause':
      case 'resume':
        close(at);
        paused = entry.action === 'pause';
        break;
      default:
        break;
    }
  }
  close(end);
  return segments.filter((segment) => segment.spec !== undefined);
}

/**
 * Every fire the segments imply in [from, to). A segment owns the fires in (segment.from, segment.to]: like the
 * scheduler, a fire at the very instant of a change still follows the spec and state before it.
 */
export function expectedFires(segments: readonly SpecSegment[], from: number, to: number): ExpectedFire[] {
  const fires: ExpectedFire[] = [];
  for (const segment of segments) {
    const start = Math.max(from, segment.from + 1);
    const end = Math.min(to, segment.to + 1);
    if (start >= end || !segment.spec) continue;
    for (const run of previewSchedule(segment.spec.schedule, {
      from: new Date(start - 1),
      count: MAX_LEDGER_FIRES + 1,
      until: new Date(end),
    })) {
      const at = Date.parse(run.at);
      if (at >= end) break;
      if (at >= start) fires.push({ at, paused: segment.paused, overlap: segment.spec.overlap });
      if (fires.length > MAX_LEDGER_FIRES) {
        throw new LedgerWindowTooLargeError(`the window holds more than ${MAX_LEDGER_FIRES} fires; narrow it`);
      }
    }
  }
  return fires.sort((a, b) => a.at - b.at);
}

/** Every fire the segments' DST policies dropped in [from, to), owned by segments as in {@link expectedFires}. */
export function expectedDrops(segments: readonly SpecSegment[], from: number, to: number): DstDrop[] {
  return segments.flatMap((segment) =>
    segment.spec
      ? policyDrops(segment.spec.schedule, Math.max(from, segment.from + 1), Math.min(to, segment.to + 1))
      : [],
  );
}

const isoTime = (at: number): string => new Date(at).toISOString().replace('.000Z', 'Z');

/**
 * One `dst_skipped` item per dropped fire (with the run the server started for it, if any) and per other run
 * `runTask` ended as a DST skip with its nominal time in `window`; `taken` runs already have their fire's item.
 */
function dstSkippedItems(
  drops: readonly DstDrop[],
  runs: readonly Run[],
  taken: ReadonlySet<string>,
  window?: { from: number; to: number },
): LedgerItem[] {
  const inWindow = (at: number) => !window || (at >= window.from && at < window.to);
  const left = runs.filter(
    (run) => run.status === 'dst_skipped' && !taken.has(run.workflowId) && inWindow(Date.parse(run.nominalTime)),
  );
  const item = (nominalTime: string, run?: Run, dst?: string): LedgerItem => ({
    nominalTime,
    outcome: 'dst_skipped',
    ...(run ? { workflowId: run.workflowId, attempts: 0 } : {}),
    ...(dst ? { dst } : {}),
  });
  const items = drops.map((drop) => {
    const index = left.findIndex((run) => drop.instants.includes(Date.parse(run.nominalTime)));
    const [run] = index < 0 ? [] : left.splice(index, 1);
    return item(run ? run.nominalTime : isoTime(drop.at), run, drop.note);
  });
  return [...items, ...left.map((run) => item(run.nominalTime, run))];
}

const rank: Record<Run['status'], number> = {
  succeeded: 0,
  running: 1,
  failed: 2,
  timed_out: 2,
  cancelled: 3,
  terminated: 3,
  dst_skipped: 1,
};

/**
 * Matches expected fires with actual runs. A fire with a run takes the run's outcome (a success wins over a
 * failed duplicate). Without one it is paused if the task was paused then; skipped if another run of the task was
 * going at that moment under an overlap policy that drops such fires (`skip`, `buffer_one` beyond the one it
 * keeps); pending while younger than `PENDING_GRACE_MS`; missed otherwise. Nominal times with more than one run count
 * as duplicates. Fires the DST policy dropped (`drops`) and runs ended as DST skips (nominal time in `window`) are
 * listed `dst_skipped`, outside `expected`.
 */
export function buildLedger(
  fires: readonly ExpectedFire[],
  runs: readonly Run[],
  now: number,
  { drops = [], window }: { drops?: readonly DstDrop[]; window?: { from: number; to: number } } = {},
): { items: LedgerItem[]; summary: LedgerSummary } {
  const byNominal = new Map<number, Run[]>();
  for (const run of runs) {
    const at = Date.parse(run.nominalTime);
    byNominal.set(at, [...(byNominal.get(at) ?? []), run]);
  }
  const summary: LedgerSummary = {
    expected: 0,
    succeeded: 0,
    failed: 0,
    running: 0,
    skipped: 0,
    missed: 0,
    duplicates: 0,
    dstSkipped: 0,
  };
  const taken = new Set<string>();
  const items = fires.map(({ at, paused, overlap }): LedgerItem => {
    const nominalTime = new Date(at).toISOString().replace('.000Z', 'Z');
    const matched = (byNominal.get(at) ?? []).sort((a, b) => rank[a.status] - rank[b.status]);
    if (!paused) summary.expected += 1;
    // A dead letter's retry is another try of its fire, not a duplicate.
    if (matched.filter((each) => each.trigger !== 'retry').length > 1) summary.duplicates += 1;
    const [run] = matched;
    for (const each of matched) taken.add(each.workflowId);
    const tries = matched.some((each) => each.trigger === 'retry')
      ? matched.filter((each) => each.workflowId === run?.workflowId)
      : [];
    if (run) {
      const outcome: LedgerOutcome =
        run.status === 'succeeded' || run.status === 'running' || run.status === 'dst_skipped' ? run.status : 'failed';
      if (outcome === 'succeeded') summary.succeeded += 1;
      else if (outcome === 'running') summary.running += 1;
      else if (outcome === 'dst_skipped') summary.dstSkipped += 1;
      else summary.failed += 1;
      return {
        nominalTime,
        outcome,
        workflowId: run.workflowId,
        attempts: run.attempts,
        ...(tries.length > 1
          ? {
              tries: tries
                .sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt))
                .map(({ runId, status, attempts, trigger, startedAt }) => ({
                  runId,
                  status,
                  attempts,
                  trigger,
                  startedAt,
                })),
            }
          : {}),
      };
    }
    if (paused) return { nominalTime, outcome: 'paused' };
    if (skippedByOverlap(overlap, runs, at)) {
      summary.skipped += 1;
      return { nominalTime, outcome: 'skipped_overlap' };
    }
    if (at > now - PENDING_GRACE_MS) return { nominalTime, outcome: 'pending' };
    summary.missed += 1;
    return { nominalTime, outcome: 'missed' };
  });
  const skipped = dstSkippedItems(drops, runs, taken, window);
  summary.dstSkipped += skipped.length;
  return {
    items: [...items, ...skipped].sort((a, b) => Date.parse(a.nominalTime) - Date.parse(b.nominalTime)),
    summary,
  };
}

/**
 * The run ledger of a task over [from, to): every fire its specs implied, matched with the runs that happened.
 * Specs and pauses come from the audit trail, runs from Temporal's visibility store: those due in the window and
 * those running during it (which decide `skipped_overlap`), so the cost follows the window, not the task's age.
 * @throws {LedgerWindowTooLargeError} when the window holds too many fires.
 */
export async function taskLedger(client: Client, taskId: string, from: Date, to: Date, now = new Date()) {
  const entries = await allPages((pageToken) => listAudit(client, { taskId, to, pageToken, pageSize: 1000 }));
  const segments = specTimeline(entries, to.getTime());
  const window = { from: from.getTime(), to: to.getTime() };
  const fires = expectedFires(segments, window.from, window.to);
  const runs = await allPages((pageToken) =>
    listRuns(client, taskId, { pageToken, pageSize: 1000, includeErrors: false, activeIn: { from, to } }),
  );
  return buildLedger(fires, runs, now.getTime(), { drops: expectedDrops(segments, window.from, window.to), window });
}
