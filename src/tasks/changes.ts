import type { BackfillOverlap } from './backfill.js';
import type { TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';

/** Everything an operator (or `apply`) can do to a task; each one is audited. */
export const taskActions = ['create', 'update', 'delete', 'pause', 'resume', 'trigger', 'backfill', 'apply'] as const;
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
);

/** What a change did: the task before and after (secrets redacted), and its outcome. */
export interface TaskChangeResult {
  before?: unknown;
  after?: unknown;
  /** When the change took effect (for a schedule write, the server's time of it); the audit entry's time. */
  appliedAt?: string;
  /** `update` of a task that did not exist creates it. */
  created?: boolean;
  /** `trigger`: the run it started. */
  run?: { workflowId: string; runId: string };
  /** `backfill`: the nominal times it covers. */
  times?: string[];
}
