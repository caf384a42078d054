import { defineQuery, defineUpdate } from '@temporalio/workflow';

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

/** A silence: alerts matching every given field are not delivered while it is active. */
export interface Silence {
  id: string;
  match: { taskId?: string; tag?: string; severity?: Severity };
  startsAt: string;
  endsAt: string;
  reason: string;
  createdBy: string;
  createdAt: string;
}

export type NewSilence = Omit<Silence, 'id' | 'createdAt' | 'startsAt'> & { startsAt?: string };

export type AdmitDecision = 'send' | 'silenced' | 'deduplicated';

export interface AdmitRequest {
  alert: Alert;
  /** The task's tags as `key=value`. */
  tags: string[];
  /** One alert per (task, event) per window. */
  windowMs: number;
}

export interface AlertStateSnapshot {
  silences: Silence[];
  /** `<taskId>/<event>` → when it was last sent (epoch ms). */
  lastSent: Record<string, number>;
}

/** One alert state per deployment (task queue), so deployments sharing a namespace keep their own silences. */
export const alertStateWorkflowId = (taskQueue: string): string => `surecron-alert-state-${taskQueue}`;
export const addSilenceUpdate = defineUpdate<Silence, [NewSilence]>('addSilence');
export const removeSilenceUpdate = defineUpdate<boolean, [string]>('removeSilence');
export const admitUpdate = defineUpdate<AdmitDecision, [AdmitRequest]>('admit');
export const silencesQuery = defineQuery<Silence[]>('silences');

export interface DeliverAlertInput {
  alert: Alert;
  tags: string[];
  /** Channel names the task asks for; default: the channels its severity routes to. */
  channels?: string[];
  windowMs?: number;
}

export interface DeliverAlertResult {
  decision: 'send' | 'silenced' | 'deduplicated';
  sent: string[];
  failed: string[];
}
