import type { ActivityOptions, SearchAttributePair } from '@temporalio/common';
import type { Severity } from './alert.js';
import type { CircuitWait, RunCircuit } from './circuit.js';
import type { GroupWait, RunGroup } from './group.js';
import { searchAttributeKeys } from './search-attributes.js';

/** A registered TS function run as the task's activity. */
export interface FunctionHandlerDef {
  type: 'function';
  name: string;
  input?: unknown;
}

/** The built-in HTTP handler: one request per attempt. */
export interface HttpHandlerDef {
  type: 'http';
  url: string;
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD';
  headers?: Record<string, string>;
  /** Header names whose values are secrets: write-only, redacted in logs and API responses. */
  secretHeaders?: string[];
  body?: unknown;
  /** A duration, e.g. `"10s"`. */
  timeout?: string;
  expectStatus?: number | number[];
}

/** A user workflow run as a child; each attempt is one run of it. */
export interface WorkflowHandlerDef {
  type: 'workflow';
  name: string;
  input?: unknown;
}

/** What a task runs; `src/tasks/spec.ts` validates it into this shape. */
export type HandlerDef = FunctionHandlerDef | HttpHandlerDef | WorkflowHandlerDef;

/** `retry`: a new run of a fire whose run failed for good (a dead letter), under the same workflow id and key. */
export type RunTrigger = 'schedule' | 'manual' | 'backfill' | 'retry';

/** A task's alert settings as its runs see them (defaults applied). */
export interface RunAlerts {
  severity: Severity;
  onFailure: boolean;
  onRecovery: boolean;
  consecutiveFailures?: number;
  channels?: string[];
}

export interface RunNotify {
  onSuccess?: string;
  onFailure?: string;
}

/** What a Schedule (or a manual start) hands to `runTask`: the handler and its activity policies, resolved. */
export interface RunTaskInput {
  taskId: string;
  handler: HandlerDef;
  /** Timeouts and retry policy of the handler's activity (milliseconds, Temporal's shape). */
  activity: Pick<ActivityOptions, 'startToCloseTimeout' | 'scheduleToCloseTimeout' | 'heartbeatTimeout' | 'retry'>;
  /** Run the handler as a local activity, inside the workflow task (`tasks/execution.ts` decides). */
  localActivity?: true;
  /**
   * The task declares no heartbeat: the worker heartbeats for its handler while an attempt runs, against
   * `activity.heartbeatTimeout` (the liveness timeout), so a worker's death is noticed within it.
   */
  workerHeartbeats?: true;
  /** Only for runs started outside a Schedule; scheduled runs read the server's scheduled time. */
  nominalTime?: string;
  trigger?: RunTrigger;
  /** One-off jobs bring their own key; tasks derive it from task id and nominal time. */
  idempotencyKey?: string;
  /** Alert settings; without them the run raises no alerts. */
  alerts?: RunAlerts;
  notify?: RunNotify;
  /** The task's tags as `key=value`, for silences that match by tag. */
  tags?: string[];
  /**
   * Closed ranges of nominal times (ISO 8601) that the Schedule fires but the task's DST policy does not: a
   * scheduled run in one ends at once, with `dstSkipped`, without running the handler.
   */
  dstSkips?: [string, string][];
  /** The task's concurrency and rate groups: the handler runs only with a permit of each. */
  groups?: RunGroup[];
  /** The dependency's circuit breaker: attempts do not call it while it is open. */
  circuit?: RunCircuit;
}

export interface RunTaskResult {
  taskId: string;
  nominalTime: string;
  idempotencyKey: string;
  /** The attempt that succeeded (1 = first try); 0 when the run was a DST skip. */
  attempt: number;
  result: unknown;
  /** The Schedule fired at a nominal time the task's DST policy leaves out: nothing ran. */
  dstSkipped?: true;
  /** On a DST skip: the failures in a row before it, carried on to the next run. */
  streak?: number;
  /** How long the run waited for each of its groups' permits. */
  groups?: GroupWait[];
  /** How long the run waited for its dependency's open circuit breaker. */
  circuit?: CircuitWait;
}

/** A failed attempt, reported by the activity so the run's history shows every attempt, not only the last. */
export interface AttemptFailure {
  attempt: number;
  at: string;
  message: string;
  type: string;
}

/** The signal a failed attempt is reported with (payload: {@link AttemptFailure}). */
export const ATTEMPT_FAILED_SIGNAL = 'attemptFailed';

/** How a run ended, as alerts and callbacks see it. */
export interface RunOutcome {
  taskId: string;
  nominalTime: string;
  workflowId: string;
  status: 'succeeded' | 'failed';
  attempts: number;
  durationMs: number;
  result?: unknown;
  error?: string;
}

/** Error type of a run whose handler failed for good; a Schedule's `pauseOnFailure` reacts to it. */
export const TASK_RUN_FAILED = 'TaskRunFailed';

/** ISO 8601 UTC without milliseconds when they are zero, the form Temporal appends to scheduled workflow ids. */
export function formatInstant(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/**
 * The search attributes a run carries from its start, the same wherever it starts (a Schedule, a trigger, a
 * backfill, a job): its task, its trigger and, when known at the start, its nominal time.
 */
export function runSearchAttributes(taskId: string, trigger: RunTrigger, nominalTime?: Date): SearchAttributePair[] {
  return [
    { key: searchAttributeKeys.taskId, value: taskId },
    { key: searchAttributeKeys.trigger, value: trigger },
    ...(nominalTime ? [{ key: searchAttributeKeys.nominalTime, value: nominalTime }] : []),
  ];
}
