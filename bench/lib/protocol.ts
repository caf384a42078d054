/** Messages between bench/schedules.ts (the parent) and bench/runner.ts (one child per system and size). */

export const systems = [
  'surecron',
  'surecron-activity',
  'surecron-group',
  'surecron-rate',
  'surecron-circuit',
  'temporal',
  'temporal-ahead',
  'bullmq',
  'croner',
] as const;
export type SystemName = (typeof systems)[number];

export interface RunnerConfig {
  system: SystemName;
  size: number;
  /** Each schedule's period in seconds (bench/lib/cadence.ts); 10 when omitted. */
  periodSeconds?: number;
  /** Temporal frontend (surecron, temporal). */
  address?: string;
  /** Pre-built workflow bundles (surecron, temporal). */
  surecronBundle?: string;
  bareBundle?: string;
  /** Worker options beside the system's own (surecron, temporal): tuning experiments, e.g. `maxCachedWorkflows`. */
  workerOptions?: Record<string, unknown>;
  /** redis-server port (bullmq). */
  redisPort?: number;
  /**
   * Registration mode (surecron only, `size` tasks): no window; on `register` the runner writes the tasks
   * (`registrationSpecs`, yearly cron) in batches through `applyTasks`, over the `TaskStore` as the surecron
   * scenario creates its tasks (`store`) or over `TaskService.writer` (`audited`: one `taskChange` workflow each).
   */
  register?: { via: RegisterVia; budgetMs: number };
}

export const registerPaths = ['store', 'audited'] as const;
export type RegisterVia = (typeof registerPaths)[number];

/** One executed run: schedule index, nominal (intended) time and the time the handler started, epoch ms. */
export type RunRecord = [i: number, nominal: number, start: number];

export type ChildMessage =
  | { type: 'ready'; setupMs: number }
  | { type: 'result'; records: RunRecord[]; startedInWindow: number; drainMs: number }
  | { type: 'registered'; applied: number; seconds: number; perSec: number; complete: boolean }
  | { type: 'stopped'; cleanupMs: number }
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'window'; t0: number; t1: number; drainMaxMs: number } | { type: 'register' };

/** What a running system gives the runner. */
export interface RunningSystem {
  /** Deletes its schedules and closes its connections. */
  stop(): Promise<void>;
}

export type Recorder = (i: number, nominal: number, start: number) => void;
