import { ApplicationFailure, log, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { createCallbackActivities } from '../activities/callbacks.js';
import type { Alert, AlertEvent, DeliverAlertInput } from '../contract/alert.js';
import type { RunAlerts, RunNotify, RunOutcome, RunTaskResult } from '../contract/run.js';
import { workflowTypes } from '../contract/workflow-types.js';

const { notifyCallback } = proxyActivities<ReturnType<typeof createCallbackActivities>>({
  startToCloseTimeout: '15s',
  retry: { maximumAttempts: 3, initialInterval: '1s' },
});

/** The streak a DST-skipped run handed on in its result (see `RunTaskResult.streak`). */
function skippedStreak(lastResult: unknown): number {
  const result = lastResult as Partial<RunTaskResult> | null | undefined;
  return result?.dstSkipped === true && typeof result.streak === 'number' ? result.streak : 0;
}

/**
 * Consecutive failures so far, carried from the previous scheduled run (Temporal passes it on): in its failure,
 * or, when it was a DST skip, in its result.
 */
export function previousStreak(): number {
  const { lastFailure: last, lastResult } = workflowInfo();
  if (!last) return skippedStreak(lastResult);
  for (let cause: unknown = last; cause instanceof Error; cause = cause.cause) {
    if (cause instanceof ApplicationFailure) {
      const streak = (cause.details?.[0] as { streak?: unknown } | undefined)?.streak;
      if (typeof streak === 'number') return streak;
    }
  }
  return last ? 1 : 0;
}

async function raise(
  event: AlertEvent,
  outcome: RunOutcome,
  alerts: RunAlerts,
  tags: string[],
  details: Record<string, unknown>,
): Promise<void> {
  const alert: Alert = {
    event,
    taskId: outcome.taskId,
    severity: alerts.severity,
    at: new Date().toISOString(),
    summary:
      event === 'task_recovered'
        ? `${outcome.taskId} succeeded again at ${outcome.nominalTime}`
        : `${outcome.taskId} failed at ${outcome.nominalTime} after ${outcome.attempts} attempt(s): ${outcome.error ?? 'unknown error'}`,
    details: {
      nominalTime: outcome.nominalTime,
      workflowId: outcome.workflowId,
      attempts: outcome.attempts,
      ...details,
    },
  };
  const input: DeliverAlertInput = { alert, tags, ...(alerts.channels ? { channels: alerts.channels } : {}) };
  try {
    await startChild(workflowTypes.deliverAlert, {
      args: [input],
      workflowId: `alert-${outcome.workflowId}-${event}`,
      parentClosePolicy: 'ABANDON',
    });
  } catch (error) {
    log.warn('could not raise alert', { event, error: (error as Error).message });
  }
}

/**
 * What a run tells the world when it ends: alerts (failure, N failures in a row, recovery) and the task's
 * callbacks. Alerts are delivered by an abandoned child workflow and callbacks are best-effort, so neither can
 * delay the next fire for long or change the run's outcome.
 */
export async function announceOutcome(
  outcome: RunOutcome,
  { alerts, notify, tags, streak }: { alerts?: RunAlerts; notify?: RunNotify; tags: string[]; streak: number },
): Promise<void> {
  if (alerts) {
    if (outcome.status === 'failed') {
      if (alerts.onFailure) await raise('run_failed', outcome, alerts, tags, { streak });
      if (alerts.consecutiveFailures && streak === alerts.consecutiveFailures) {
        await raise('consecutive_failures', outcome, alerts, tags, { streak });
      }
    } else if (alerts.onRecovery && previousStreak() > 0) {
      await raise('task_recovered', outcome, alerts, tags, { previousStreak: previousStreak() });
    }
  }
  const callback = outcome.status === 'succeeded' ? 'onSuccess' : 'onFailure';
  const url = notify?.[callback];
  if (url) {
    // The URL may carry a secret: the log names the callback; the activity's error shows the URL redacted.
    await notifyCallback({ url, payload: outcome }).catch((error: unknown) =>
      log.warn('callback failed', { taskId: outcome.taskId, callback, error: (error as Error).message }),
    );
  }
}
