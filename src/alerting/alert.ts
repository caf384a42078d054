/** Everything surecron can alert on. */
export const alertEvents = [
  'run_failed',
  'consecutive_failures',
  'run_missed',
  'run_late',
  'task_recovered',
  'schedule_drift',
] as const;
export type AlertEvent = (typeof alertEvents)[number];

/** P0 pages someone, P1 needs attention today, P2 is informational. */
export type Severity = 'P0' | 'P1' | 'P2';

/** One alert, as handed to every delivery channel. */
export interface Alert {
  event: AlertEvent;
  taskId: string;
  severity: Severity;
  /** When it happened, ISO 8601. */
  at: string;
  /** One human-readable line. */
  summary: string;
  /** Event-specific facts, e.g. nominalTime, attempts, error, streak, workflowId, reason. */
  details: Record<string, unknown>;
}
