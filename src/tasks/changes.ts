import type { RunTaskInput } from '../contract/run.js';
import type { BackfillOverlap } from './backfill.js';
import type { TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';

/** Everything an operator (or `apply`) can do to a task; each one is audited. */
export const taskActions = [
  'create',
  'update',
  'delete',
  'pause',
  'resume',
  'trigger',
  'backfill',
  'apply',
  'retry',
  'resolve',
] as const;
export type TaskAction = (typeof taskActions)[number];

/** One audited change, carried out durably by the `taskChange` workflow. */
export type TaskChange = {
  taskId: string;
  /** Token name, or `code` for tasks applied from code. */
  actor: string;
  source: TaskSource;
} & (
  | { action: 'create' | 'update'; spec: TaskSpec }
  | { action: 'apply'; op: 'create' | 'update'; spec: TaskSpec }
  | { action: 'apply'; op: 'delete' }
  | { action: 'delete' }
  | { action: 'pause' | 'resume'; note?: string }
  | { action: 'trigger' }
  | { action: 'backfill'; from: string; to: string; overlap?: BackfillOverlap }
  /** A new run of a dead letter's fire, with the task's current spec or the failed run's own input. */
  | { action: 'retry'; run: RunRef; spec: 'current' | 'original' }
  /** A dead letter handled by hand: it leaves the list. */
  | { action: 'resolve'; run: RunRef; note: string }
);

/** One run of a fire: its workflow id (the fire) and run id (the try). */
export interface RunRef {
  workflowId: string;
  runId: string;
}

/** How a run is listed in the `SurecronRunIds` of the `retry` or `resolve` audit entry that acted on it. */
export const runRefKey = (ref: RunRef): string => `${ref.workflowId}/${ref.runId}`;

/** The runs a batch of changes acts on, as {@link runRefKey}s. */
export const runKeysOf = (changes: readonly TaskChange[]): string[] =>
  changes.flatMap((change) => ('run' in change ? [runRefKey(change.run)] : []));

/** What a retry or a resolve needs to know of a run. */
export interface FireRunView {
  taskId: string;
  /** The run's status (`failed` for a dead letter). */
  status: string;
  nominalTime: string;
  idempotencyKey: string;
  /** The input the run was started with. */
  input: RunTaskInput;
  /** The newest run under the same workflow id (a later retry supersedes this one). */
  latestRunId: string;
  /** A `resolve` audit entry lists it. */
  resolved: boolean;
}

/** What a change did: the task before and after (secrets redacted), and its outcome. */
export interface TaskChangeResult {
  before?: unknown;
  after?: unknown;
  /** When the change took effect (for a schedule write, the server's time of it); the audit entry's time. */
  appliedAt?: string;
  /** `update` of a task that did not exist creates it. */
  created?: boolean;
  /** `trigger`, `retry`: the run it started. */
  run?: { workflowId: string; runId: string };
  /** `backfill`: the nominal times it covers. */
  times?: string[];
}

/**
 * Several changes carried out by one `taskChange` execution and recorded as one audit entry listing every task
 * it touched: all by one actor, all of one action, each to a different task. Each change is applied on its own
 * (all-or-nothing per task): one that fails changes nothing and is left out of the entry, the others stand.
 */
export interface TaskChangeBatch {
  changes: TaskChange[];
}

/** A failed change of a batch, as its Temporal failure carried it: enough to rebuild the domain error. */
export interface TaskChangeFailure {
  message: string;
  type?: string;
  details?: unknown[];
}

/** What one change of a batch did, in the batch's order. */
export type TaskChangeOutcome =
  { taskId: string; ok: true; result: TaskChangeResult } | { taskId: string; ok: false; failure: TaskChangeFailure };

export interface TaskChangeBatchResult {
  outcomes: TaskChangeOutcome[];
}

/** One task's part of a batch audit entry (the memo's `audit.items`): when its change took effect, and how. */
export interface AuditItem {
  taskId: string;
  at: string;
  before?: unknown;
  after?: unknown;
}
