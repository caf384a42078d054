import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { segment } from '../http.js';
import { objectDetails } from '../views.js';

interface OpenAlert {
  id: string;
  taskId: string;
  event: string;
  severity: string;
  firstAt: string;
  lastSentAt: string;
  sent: number;
  acknowledged?: { by: string; at: string; note?: string };
}

/** `surecron alerts list|ack`: open alerts, and acknowledging one (no more re-alerts, no escalation). */
export function registerAlerts(program: Command): void {
  const alerts = program.command('alerts').description('open alerts: conditions that alerted and have not cleared');

  alerts
    .command('list', { isDefault: true })
    .description('list open alerts, the newest first')
    .action(async (_options: unknown, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<{ items: OpenAlert[] }>('GET', '/v1/alerts');
      out.print(body, () =>
        out.table(
          ['ID', 'TASK', 'EVENT', 'SEVERITY', 'SINCE', 'SENT', 'ACKNOWLEDGED BY'],
          body.items.map((a) => [a.id, a.taskId, a.event, a.severity, a.firstAt, a.sent, a.acknowledged?.by ?? '']),
        ),
      );
    });

  alerts
    .command('ack')
    .description('acknowledge an open alert: no re-alerts, no escalation, until its condition clears')
    .argument('<id>', 'the alert id (in every delivered alert)')
    .option('--note <text>', 'what is being done about it')
    .action(async (id: string, options: { note?: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<unknown>('POST', `/v1/alerts/${segment(id)}/ack`, { body: options });
      out.print(body, () => objectDetails(out, body));
    });
}
