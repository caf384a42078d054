import { log, proxyActivities } from '@temporalio/workflow';
import type { DeliverAlertInput, DeliverAlertResult } from '../contract/alert.js';
import type { createAlertActivities } from '../activities/alerts.js';

type AlertActivities = ReturnType<typeof createAlertActivities>;

const { admitAlert, alertTargets } = proxyActivities<AlertActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 10, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
});
const { sendAlert } = proxyActivities<AlertActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumAttempts: 5, initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '1m' },
});

/** Ten minutes: one alert per (task, event) per window. */
export const DEFAULT_DEDUP_WINDOW_MS = 600_000;

/**
 * Delivers one alert: admitted by the shared alert state (silences, dedup), then sent to every routed channel,
 * each with its own retries. Started with an abandoning parent-close policy, so delivery never blocks or fails
 * the run that raised it; a channel that still fails is logged and counted.
 */
export async function deliverAlert(input: DeliverAlertInput): Promise<DeliverAlertResult> {
  const decision = await admitAlert({
    alert: input.alert,
    tags: input.tags,
    windowMs: input.windowMs ?? DEFAULT_DEDUP_WINDOW_MS,
  });
  if (decision !== 'send') return { decision, sent: [], failed: [] };
  const targets = await alertTargets({ alert: input.alert, channels: input.channels });
  const outcomes = await Promise.all(
    targets.map((channel) =>
      sendAlert({ channel, alert: input.alert }).then(
        () => ({ channel, ok: true }),
        (error: unknown) => {
          log.warn('alert delivery failed for good', { channel, error: (error as Error).message });
          return { channel, ok: false };
        },
      ),
    ),
  );
  return {
    decision,
    sent: outcomes.filter((o) => o.ok).map((o) => o.channel),
    failed: outcomes.filter((o) => !o.ok).map((o) => o.channel),
  };
}
