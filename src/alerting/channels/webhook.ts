import { createHmac } from 'node:crypto';
import { type Alert } from '../../contract/alert.js';
import { type WebhookChannel } from './config.js';
import { toJson } from './format.js';
import { type DeliverOptions, postJson } from './http.js';

/** The JSON body a generic webhook receives. */
export function webhookPayload(alert: Alert): string {
  const { id, event, taskId, severity, at, summary, details } = alert;
  return toJson({ ...(id ? { id } : {}), event, taskId, severity, at, summary, details });
}

/** `sha256=` + hex HMAC-SHA256 keyed with `secret` over `<timestamp>.<body>`. */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * POSTs `{ id, event, taskId, severity, at, summary, details }` as JSON (`id`: the open alert, to acknowledge). Any 2xx is success.
 *
 * With a `secret`, two headers are added:
 * - `X-Surecron-Timestamp`: unix time in seconds when the request was signed;
 * - `X-Surecron-Signature`: `sha256=<hex>`, the HMAC-SHA256 keyed with the secret over the UTF-8 string
 *   `<timestamp>.<raw body>` (the timestamp header value, a literal `.`, then the exact request body bytes).
 *
 * Receivers should recompute it over the raw body before parsing, compare in constant time, and reject
 * timestamps more than a few minutes old to stop replays.
 */
export async function deliverWebhook(channel: WebhookChannel, alert: Alert, options: DeliverOptions): Promise<void> {
  const body = webhookPayload(alert);
  const headers: Record<string, string> = {};
  if (channel.secret) {
    const timestamp = Math.floor(Date.now() / 1000);
    headers['x-surecron-timestamp'] = String(timestamp);
    headers['x-surecron-signature'] = signWebhook(channel.secret, timestamp, body);
  }
  await postJson(channel.name, channel.url, body, options, headers);
}
