import { type Alert } from '../../contract/alert.js';
import { type WecomChannel } from './config.js';
import { alertTitle, detailEntries, toJson, truncateBytes } from './format.js';
import { type DeliverOptions, postJson, requireErrcodeZero } from './http.js';

/** WeCom caps markdown content at 4096 bytes. */
const maxContentBytes = 4096;

/** Group-bot markdown message; severity is coloured (`warning` for P0/P1, `comment` for P2). */
export function wecomPayload(alert: Alert): { msgtype: 'markdown'; markdown: { content: string } } {
  const color = alert.severity === 'P2' ? 'comment' : 'warning';
  const lines = [
    `### <font color="${color}">${alertTitle(alert)}</font>`,
    alert.summary,
    `> **Task:** ${alert.taskId}`,
    `> **Event:** ${alert.event}`,
    `> **Severity:** <font color="${color}">${alert.severity}</font>`,
    `> **At:** ${alert.at}`,
    ...(alert.id ? [`> **Alert:** ${alert.id}`] : []),
    ...detailEntries(alert).map(([key, value]) => `> **${key}:** ${value}`),
  ];
  return { msgtype: 'markdown', markdown: { content: truncateBytes(lines.join('\n'), maxContentBytes) } };
}

/** Posts to a WeCom group bot; success is HTTP 200 with `{ "errcode": 0, "errmsg": "ok" }`. */
export async function deliverWecom(channel: WecomChannel, alert: Alert, options: DeliverOptions): Promise<void> {
  const text = await postJson(channel.name, channel.url, toJson(wecomPayload(alert)), options);
  requireErrcodeZero(channel.name, text);
}
