import type { Alert, Severity } from '../contract/alert.js';
import { parseDuration } from '../tasks/duration.js';
import type { AlertsConfig, Channel } from './channels/config.js';
import { defaultWebhookName } from './channels/load.js';

/** Where alerts go: channel selection by severity, and delivery to one named channel. */
export interface AlertRouter {
  /**
   * Channel names for an alert: the task's own list if it names one, else the routes for its severity; the
   * `SURECRON_ALERT_WEBHOOK_URL` channel always, whatever the list.
   */
  targets(alert: Alert, requested?: string[]): string[];
  /** How long an unacknowledged alert of this severity waits before it escalates; undefined: it does not. */
  escalateAfterMs(severity: Severity): number | undefined;
  send(channel: string, alert: Alert): Promise<void>;
}

export type Deliver = (channel: Channel, alert: Alert) => Promise<void>;

/** Builds the router from the alert configuration and a delivery function. */
export function createAlertRouter(config: AlertsConfig, deliver: Deliver): AlertRouter {
  const byName = new Map(config.channels.map((channel) => [channel.name, channel]));
  const accepts = (channel: Channel, alert: Alert): boolean =>
    !channel.severities || channel.severities.includes(alert.severity);
  return {
    targets(alert, requested) {
      if (requested?.length) {
        const names = requested.filter((name) => byName.has(name));
        return byName.has(defaultWebhookName) && !names.includes(defaultWebhookName)
          ? [...names, defaultWebhookName]
          : names;
      }
      const routed = config.routes?.[alert.severity];
      const names = routed ?? config.channels.map((channel) => channel.name);
      return names.filter((name) => {
        const channel = byName.get(name);
        return channel !== undefined && accepts(channel, alert);
      });
    },
    escalateAfterMs(severity) {
      const after = severity === 'P0' ? undefined : config.escalateAfter?.[severity];
      return after === undefined ? undefined : parseDuration(after);
    },
    async send(name, alert) {
      const channel = byName.get(name);
      if (!channel) throw new Error(`no alert channel named "${name}"`);
      await deliver(channel, alert);
    },
  };
}
