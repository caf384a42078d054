import { createTransport } from 'nodemailer';
import { type Alert } from '../../contract/alert.js';
import { type EmailChannel } from './config.js';
import { AlertDeliveryError } from './errors.js';
import { detailEntries } from './format.js';
import { type DeliverOptions, defaultTimeoutMs, withTimeout } from './http.js';

/** `[surecron P1] run_failed: <taskId>` */
export const emailSubject = (alert: Alert): string => `[surecron ${alert.severity}] ${alert.event}: ${alert.taskId}`;

/** Plain-text body: the summary, the alert's fields, then one `key: value` line per detail. */
export function emailText(alert: Alert): string {
  const details = detailEntries(alert, 10_000);
  return [
    alert.summary,
    '',
    `Task:     ${alert.taskId}`,
    `Event:    ${alert.event}`,
    `Severity: ${alert.severity}`,
    `At:       ${alert.at}`,
    ...(alert.id ? [`Alert:    ${alert.id}`] : []),
    ...(details.length > 0 ? ['', 'Details:', ...details.map(([key, value]) => `  ${key}: ${value}`)] : []),
    '',
  ].join('\n');
}

/** Sends the alert over SMTP with nodemailer; a fresh connection per alert, closed afterwards. */
export async function deliverEmail(channel: EmailChannel, alert: Alert, options: DeliverOptions): Promise<void> {
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  const transport = createTransport({
    host: channel.host,
    port: channel.port,
    secure: channel.secure ?? false,
    ignoreTLS: channel.ignoreTLS ?? false,
    auth: channel.user === undefined ? undefined : { user: channel.user, pass: channel.pass },
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await withTimeout(channel.name, timeoutMs, async (signal) => {
      signal.addEventListener('abort', () => transport.close(), { once: true });
      try {
        await transport.sendMail({
          from: channel.from,
          to: channel.to,
          subject: emailSubject(alert),
          text: emailText(alert),
        });
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new AlertDeliveryError(channel.name, `SMTP ${channel.host}:${channel.port} failed: ${reason}`, {
          cause: error,
        });
      }
    });
  } finally {
    transport.close();
  }
}
