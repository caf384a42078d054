import { log, patched, proxyActivities, sleep } from '@temporalio/workflow';
import {
  alertRecoveries,
  nextSeverity,
  type Alert,
  type DeliverAlertInput,
  type DeliverAlertResult,
  type Severity,
} from '../contract/alert.js';
import type { createAlertActivities } from '../activities/alerts.js';

type AlertActivities = ReturnType<typeof createAlertActivities>;

const { admitAlert, alertTargets, raiseAlert, alertRoute, escalateAlert } = proxyActivities<AlertActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
const { sendAlert } = proxyActivities<AlertActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Ten minutes: one alert per (task, event) per window. */
export const DEFAULT_DEDUP_WINDOW_MS = 600_000;

/** Sends to every target at once, each channel with its own retries; one failing for good is logged. */
async function sendAll(targets: string[], alert: Alert): Promise<{ sent: string[]; failed: string[] }> {
  const outcomes = await Promise.all(
    targets.map((channel) =>
      sendAlert({ channel, alert }).then(
        () => ({ channel, ok: true }),
        (error: unknown) => {
          log.warn('alert delivery failed for good', { channel, error: (error as Error).message });
          return { channel, ok: false };
        },
      ),
    ),
  );
  return {
    sent: outcomes.filter((o) => o.ok).map((o) => o.channel),
    failed: outcomes.filter((o) => !o.ok).map((o) => o.channel),
  };
}

/**
 * Delivers one alert: raised in the shared alert state (silences, open alerts, re-alerts, acknowledgements), then
 * sent to every routed channel, each with its own retries. A new alert then waits, on a durable timer, for its
 * severity's `escalateAfter`: still unacknowledged, it goes to the next severity's route, and so on up to P0.
 * Started with an abandoning parent-close policy, so delivery never blocks or fails the run that raised it; a
 * channel that still fails is logged and counted.
 */
export async function deliverAlert(input: DeliverAlertInput): Promise<DeliverAlertResult> {
  if (!patched('alert-lifecycle')) return admitAndSend(input);
  const raised = await raiseAlert({
    alert: input.alert,
    tags: input.tags,
    windowMs: input.windowMs ?? DEFAULT_DEDUP_WINDOW_MS,
    ...(input.reAlertMs !== undefined ? { reAlertMs: input.reAlertMs } : {}),
  });
  const { decision, id } = raised;
  if (decision !== 'send' || id === undefined) return { decision, ...(id ? { id } : {}), sent: [], failed: [] };
  // A re-alert goes where the open alert is now: the severity escalations raised it to, and that route.
  const escalatedBefore = raised.severity !== input.alert.severity;
  let alert: Alert = {
    ...input.alert,
    id,
    severity: raised.severity,
    ...(raised.repeat ? { details: { ...input.alert.details, repeat: true } } : {}),
  };
  let route = await alertRoute({ alert, ...(input.channels && !escalatedBefore ? { channels: input.channels } : {}) });
  const result = await sendAll(route.targets, alert);
  const escalated: Severity[] = [];
  // The first delivery of a condition watches it; re-alerts and recoveries do not escalate.
  const recovery = alertRecoveries[alert.event] !== undefined;
  while (!raised.repeat && !recovery && route.escalateAfterMs !== undefined) {
    const to = nextSeverity(alert.severity);
    if (!to) break;
    await sleep(route.escalateAfterMs);
    if (!(await escalateAlert({ id, to }))) break;
    const waited = Math.round(route.escalateAfterMs / 1000);
    alert = {
      ...alert,
      severity: to,
      summary: `not acknowledged within ${waited} s, escalated from ${alert.severity}: ${input.alert.summary}`,
      details: { ...alert.details, escalatedFrom: alert.severity },
    };
    route = await alertRoute({ alert });
    const sent = await sendAll(route.targets, alert);
    result.sent.push(...sent.sent);
    result.failed.push(...sent.failed);
    escalated.push(to);
  }
  return { decision, id, ...result, ...(escalated.length ? { escalated } : {}) };
}

/** Deliveries started before open alerts: admitted (silences, dedup), then sent. */
async function admitAndSend(input: DeliverAlertInput): Promise<DeliverAlertResult> {
  const decision = await admitAlert({
    alert: input.alert,
    tags: input.tags,
    windowMs: input.windowMs ?? DEFAULT_DEDUP_WINDOW_MS,
  });
  if (decision !== 'send') return { decision, sent: [], failed: [] };
  const targets = await alertTargets({ alert: input.alert, channels: input.channels });
  return { decision, ...(await sendAll(targets, input.alert)) };
}
