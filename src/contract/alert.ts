import { defineQuery, defineUpdate } from '@temporalio/workflow';
import type { TeamScope } from './team-scope.js';

/** Everything surecron can alert on. */
export const alertEvents = [
  'run_failed',
  'consecutive_failures',
  'run_missed',
  'run_late',
  /** A run still going past its task's `maxRuntime`. */
  'run_overdue',
  'task_recovered',
  /** A run failed for good that nobody retried or resolved within `SURECRON_DEAD_LETTER_ALERT_AFTER`. */
  'dead_letter_unresolved',
  'schedule_drift',
  /** A dependency's circuit breaker opened (one alert per dependency; `taskId` is `circuit:<key>`). */
  'circuit_open',
  /** Its trial call succeeded: it closed again. */
  'circuit_closed',
] as const;
export type AlertEvent = (typeof alertEvents)[number];

/** The recoveries, and the conditions each closes: the next such alert is news again. A recovery never escalates. */
export const alertRecoveries: Readonly<Partial<Record<AlertEvent, readonly AlertEvent[]>>> = {
  task_recovered: ['run_failed', 'consecutive_failures'],
  circuit_closed: ['circuit_open'],
};

/** P0 pages someone, P1 needs attention today, P2 is informational. */
export type Severity = 'P0' | 'P1' | 'P2';

/** One alert, as handed to every delivery channel. */
export interface Alert {
  /** The open alert it belongs to: what `POST /v1/alerts/{id}/ack` acknowledges. Re-alerts carry the same id. */
  id?: string;
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
  /** `scope`: the team scope of the token that made it; it silences only that team's tasks. */
  match: { taskId?: string; tag?: string; severity?: Severity; scope?: TeamScope };
  startsAt: string;
  endsAt: string;
  reason: string;
  createdBy: string;
  createdAt: string;
}

export type NewSilence = Omit<Silence, 'id' | 'createdAt' | 'startsAt'> & { startsAt?: string };

export type AdmitDecision = 'send' | 'silenced' | 'deduplicated';
/** `acknowledged`: the condition is still open and someone acknowledged it, so it is not sent again. */
export type RaiseDecision = AdmitDecision | 'acknowledged';

export interface AdmitRequest {
  alert: Alert;
  /** The task's tags as `key=value`. */
  tags: string[];
  /** One alert per (task, event) per window. */
  windowMs: number;
}

export interface RaiseRequest extends AdmitRequest {
  /** While the condition stays open and unacknowledged, send it again this often (default: `windowMs`). */
  reAlertMs?: number;
}

export interface RaiseResult {
  decision: RaiseDecision;
  /** The open alert's id (not for a silenced one). */
  id?: string;
  /** True for a re-alert of a condition already open. */
  repeat: boolean;
  /** Its severity now: raised by escalations. */
  severity: Severity;
}

/**
 * A condition (one task, one event) that alerted and has not cleared: it clears once it is not raised again for its
 * quiet period (the dedup window, or the re-alert interval when longer), or, for failures, when the task recovers.
 */
export interface OpenAlert {
  id: string;
  taskId: string;
  event: AlertEvent;
  severity: Severity;
  summary: string;
  tags: string[];
  firstAt: string;
  lastSentAt: string;
  lastSeenAt: string;
  /** Deliveries: the first and every re-alert. */
  sent: number;
  quietMs: number;
  reAlertMs: number;
  acknowledged?: { by: string; at: string; note?: string };
  escalations: { to: Severity; at: string }[];
}

export interface AckRequest {
  id: string;
  by: string;
  note?: string;
}

export interface AlertStateSnapshot {
  silences: Silence[];
  /** `<taskId>/<event>` → when it was last sent (epoch ms), for deliveries started before open alerts. */
  lastSent: Record<string, number>;
  /** `<taskId>/<event>` → its open alert. */
  open?: Record<string, OpenAlert>;
}

/** One alert state per deployment (task queue), so deployments sharing a namespace keep their own silences. */
export const alertStateWorkflowId = (taskQueue: string): string => `surecron-alert-state-${taskQueue}`;
export const addSilenceUpdate = defineUpdate<Silence, [NewSilence]>('addSilence');
export const removeSilenceUpdate = defineUpdate<boolean, [string]>('removeSilence');
export const admitUpdate = defineUpdate<AdmitDecision, [AdmitRequest]>('admit');
export const silencesQuery = defineQuery<Silence[]>('silences');
export const raiseUpdate = defineUpdate<RaiseResult, [RaiseRequest]>('raise');
/** Acknowledges an open alert: no re-alerts, no escalation; undefined when no open alert has the id. */
export const ackUpdate = defineUpdate<OpenAlert | undefined, [AckRequest]>('ack');
/** Raises an unacknowledged open alert to `to`; false when it was acknowledged or has cleared. */
export const escalateUpdate = defineUpdate<boolean, [{ id: string; to: Severity }]>('escalate');
export const openAlertsQuery = defineQuery<OpenAlert[]>('openAlerts');

/** The severity an unacknowledged alert escalates to, if any. */
export const nextSeverity = (severity: Severity): Severity | undefined =>
  severity === 'P2' ? 'P1' : severity === 'P1' ? 'P0' : undefined;

export interface DeliverAlertInput {
  alert: Alert;
  tags: string[];
  /** Channel names the task asks for; default: the channels its severity routes to. */
  channels?: string[];
  windowMs?: number;
  /** The task's `alerts.reAlertEvery` (ms). */
  reAlertMs?: number;
}

export interface DeliverAlertResult {
  decision: RaiseDecision;
  id?: string;
  /** Severities it escalated to, in order. */
  escalated?: Severity[];
  sent: string[];
  failed: string[];
}
