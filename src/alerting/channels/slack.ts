import { type Alert } from '../../contract/alert.js';
import { type SlackChannel } from './config.js';
import { alertLine, alertTitle, detailEntries, toJson, truncate } from './format.js';
import { type DeliverOptions, postJson } from './http.js';

/** Slack mrkdwn needs only `&`, `<` and `>` escaped. */
const escape = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Incoming-webhook payload: `text` is the notification fallback; `blocks` are a header (≤150 chars), the
 * summary with task/event/severity/time as mrkdwn fields, and the details as a mrkdwn list (≤3000 chars).
 */
export function slackPayload(alert: Alert): { text: string; blocks: unknown[] } {
  const field = (label: string, value: string) => ({ type: 'mrkdwn', text: `*${label}*\n${escape(value)}` });
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(alertTitle(alert), 150), emoji: true } },
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncate(escape(alert.summary), 3000) },
      fields: [
        field('Task', alert.taskId),
        field('Event', alert.event),
        field('Severity', alert.severity),
        field('At', alert.at),
        ...(alert.id ? [field('Alert', alert.id)] : []),
      ],
    },
  ];
  const details = detailEntries(alert);
  if (details.length > 0) {
    const list = details.map(([key, value]) => `*${escape(key)}:* ${escape(value)}`).join('\n');
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncate(list, 3000) } });
  }
  return { text: escape(alertLine(alert)), blocks };
}

/** Posts to a Slack incoming webhook, which answers 200 `ok` on success. */
export async function deliverSlack(channel: SlackChannel, alert: Alert, options: DeliverOptions): Promise<void> {
  await postJson(channel.name, channel.url, toJson(slackPayload(alert)), options);
}
