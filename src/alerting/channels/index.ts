import { type Alert } from '../../contract/alert.js';
import { type Channel } from './config.js';
import { deliverDingtalk } from './dingtalk.js';
import { deliverEmail } from './email.js';
import { type DeliverOptions } from './http.js';
import { deliverSlack } from './slack.js';
import { deliverWebhook } from './webhook.js';
import { deliverWecom } from './wecom.js';

export { AlertConfigError, AlertDeliveryError } from './errors.js';
export {
  type AlertsConfig,
  type Channel,
  type DingtalkChannel,
  type EmailChannel,
  type SlackChannel,
  type WebhookChannel,
  type WecomChannel,
  alertsFileSchema,
  channelSchema,
} from './config.js';
export { channelFromEnv, channelsFor, defaultWebhookName, loadChannels, parseAlertsConfig } from './load.js';
export { redactUrl } from './redact.js';
export { signWebhook } from './webhook.js';
export { signDingtalkUrl } from './dingtalk.js';
export type { DeliverOptions };

/**
 * Delivers one alert to one channel. Does not filter by severity (see `channelsFor`).
 * @throws {AlertDeliveryError} naming the channel, on a non-2xx status, errcode ≠ 0, SMTP failure or timeout.
 */
export async function deliver(channel: Channel, alert: Alert, options: DeliverOptions = {}): Promise<void> {
  switch (channel.type) {
    case 'webhook':
      return deliverWebhook(channel, alert, options);
    case 'slack':
      return deliverSlack(channel, alert, options);
    case 'wecom':
      return deliverWecom(channel, alert, options);
    case 'dingtalk':
      return deliverDingtalk(channel, alert, options);
    case 'email':
      return deliverEmail(channel, alert, options);
  }
}
