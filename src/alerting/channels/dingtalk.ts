import { createHmac } from 'node:crypto';
import { type Alert } from '../../contract/alert.js';
import { type DingtalkChannel } from './config.js';
import { alertTitle, detailEntries, toJson, truncateBytes } from './format.js';
import { type DeliverOptions, postJson, requireErrcodeZero } from './http.js';

/** DingTalk rejects messages over 20000 bytes; stay well below. */
const maxTextBytes = 18_000;

/** Markdown message. The text mentions "surecron", so a robot secured by that keyword accepts it. */
export function dingtalkPayload(alert: Alert): { msgtype: 'markdown'; markdown: { title: string; text: string } } {
  const title = alertTitle(alert);
  const lines = [
    `### surecron ${title}`,
    '',
    alert.summary,
    '',
    `- **Task:** ${alert.taskId}`,
    `- **Event:** ${alert.event}`,
    `- **Severity:** ${alert.severity}`,
    `- **At:** ${alert.at}`,
    ...(alert.id ? [`- **Alert:** ${alert.id}`] : []),
    ...detailEntries(alert).map(([key, value]) => `- **${key}:** ${value}`),
  ];
  return { msgtype: 'markdown', markdown: { title, text: truncateBytes(lines.join('\n'), maxTextBytes) } };
}

/**
 * 加签: `sign` = base64(HMAC-SHA256 keyed with `secret` over `<timestamp>\n<secret>`), with `timestamp` in
 * milliseconds; both are appended to the webhook URL as `&timestamp=…&sign=<URL-encoded sign>`.
 */
export function signDingtalkUrl(url: string, secret: string, timestamp = Date.now()): string {
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
  return `${url}${url.includes('?') ? '&' : '?'}timestamp=${timestamp}&sign=${encodeURIComponent(sign)}`;
}

/** Posts to a DingTalk robot (signed when `secret` is set); success is HTTP 200 with `{ "errcode": 0 }`. */
export async function deliverDingtalk(channel: DingtalkChannel, alert: Alert, options: DeliverOptions): Promise<void> {
  const url = channel.secret ? signDingtalkUrl(channel.url, channel.secret) : channel.url;
  const text = await postJson(channel.name, url, toJson(dingtalkPayload(alert)), options);
  requireErrcodeZero(channel.name, text);
}
