import { Counter, Histogram, Registry } from 'prom-client';

/** How a run ended; the `outcome` label of `surecron_task_runs_total`. */
export const taskOutcomes = ['succeeded', 'failed', 'cancelled', 'timed_out', 'terminated'] as const;
export type TaskOutcome = (typeof taskOutcomes)[number];

/** What became of one alert; the `result` label of `surecron_alerts_total`. */
export const alertResults = ['sent', 'failed', 'silenced', 'deduplicated', 'acknowledged'] as const;
export type AlertResult = (typeof alertResults)[number];

/** Every metric surecron's worker exposes, named as in the text format (counters with `_total`, histogram bases). */
export const surecronMetricNames = [
  'surecron_task_runs_total',
  'surecron_task_run_duration_seconds',
  'surecron_task_start_lateness_seconds',
  'surecron_task_attempts_total',
  'surecron_task_missed_total',
  'surecron_alerts_total',
] as const;
export type SurecronMetricName = (typeof surecronMetricNames)[number];

/** 10 ms … 1 h. */
const durationBuckets = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
/** 50 ms … 10 min. */
const latenessBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface RunFinished {
  taskId: string;
  outcome: TaskOutcome;
  durationMs: number;
  /** Informational: attempts are counted as they start, by {@link TaskMetrics.attemptStarted}. */
  attempts: number;
}

export interface AttemptStarted {
  taskId: string;
  /** 1-based, as in Temporal's activity info. */
  attempt: number;
  /** Activity start minus the run's nominal (scheduled) time; negative values (clock skew) count as 0. */
  latenessMs: number;
}

export interface TaskMetrics {
  registry: Registry;
  runs: Counter<'task' | 'outcome'>;
  runDuration: Histogram<'task'>;
  startLateness: Histogram<'task'>;
  attempts: Counter<'task'>;
  missed: Counter<'task'>;
  alerts: Counter<'channel' | 'result'>;
  /** A run ended: counts it by outcome and observes its duration. */
  runFinished(event: RunFinished): void;
  /** An attempt began: counts it; the first attempt's lateness is observed (retries are late by design). */
  attemptStarted(event: AttemptStarted): void;
  /** A nominal run time passed without a run. */
  runMissed(event: { taskId: string }): void;
  /** An alert was handled by a channel. */
  alertDelivered(event: { channel: string; result: AlertResult }): void;
  /**
   * Exposes a task's counters at 0 before anything happens to it, so `increase()` sees its first failure or miss
   * (a series that appears at 1 has no increase). Idempotent.
   */
  initTask(taskId: string): void;
}

const seconds = (ms: number): number => Math.max(0, ms) / 1000;

/** Creates surecron's task metrics in `registry` (a new one by default; never prom-client's global registry). */
export function createTaskMetrics(registry: Registry = new Registry()): TaskMetrics {
  const registers = [registry];
  const runs = new Counter({
    name: 'surecron_task_runs_total',
    help: 'Task runs finished, by outcome',
    labelNames: ['task', 'outcome'] as const,
    registers,
  });
  const runDuration = new Histogram({
    name: 'surecron_task_run_duration_seconds',
    help: 'Task run duration from first attempt start to finish',
    labelNames: ['task'] as const,
    buckets: durationBuckets,
    registers,
  });
  const startLateness = new Histogram({
    name: 'surecron_task_start_lateness_seconds',
    help: "Delay between a run's nominal time and the start of its first attempt",
    labelNames: ['task'] as const,
    buckets: latenessBuckets,
    registers,
  });
  const attempts = new Counter({
    name: 'surecron_task_attempts_total',
    help: 'Task attempts started, retries included',
    labelNames: ['task'] as const,
    registers,
  });
  const missed = new Counter({
    name: 'surecron_task_missed_total',
    help: 'Nominal task run times that passed without a run',
    labelNames: ['task'] as const,
    registers,
  });
  const alerts = new Counter({
    name: 'surecron_alerts_total',
    help: 'Alerts handled, by channel and result',
    labelNames: ['channel', 'result'] as const,
    registers,
  });

  return {
    registry,
    runs,
    runDuration,
    startLateness,
    attempts,
    missed,
    alerts,
    runFinished({ taskId, outcome, durationMs }) {
      runs.inc({ task: taskId, outcome });
      runDuration.observe({ task: taskId }, seconds(durationMs));
    },
    attemptStarted({ taskId, attempt, latenessMs }) {
      attempts.inc({ task: taskId });
      if (attempt === 1) startLateness.observe({ task: taskId }, seconds(latenessMs));
    },
    runMissed({ taskId }) {
      missed.inc({ task: taskId });
    },
    alertDelivered({ channel, result }) {
      alerts.inc({ channel, result });
    },
    initTask(taskId) {
      for (const outcome of taskOutcomes) runs.inc({ task: taskId, outcome }, 0);
      attempts.inc({ task: taskId }, 0);
      missed.inc({ task: taskId }, 0);
    },
  };
}
