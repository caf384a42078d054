import type { Command } from 'commander';
import { contextOf } from '../context.js';
import { checkRange, isoTime, pageSize, pageToken, parser, taskId } from '../validate.js';
import { type Page, notePage } from '../views.js';

interface AuditEntry {
  at: string;
  actor: string;
  action: string;
  taskId: string;
  before?: unknown;
  after?: unknown;
}

/** Top-level fields that differ between `before` and `after`, for a one-cell summary. */
export function changedFields(entry: Pick<AuditEntry, 'before' | 'after'>): string {
  const asRecord = (value: unknown) =>
    value && typeof value === 'object' ? (value as Record<string, unknown>) : ({} as Record<string, unknown>);
  const before = asRecord(entry.before);
  const after = asRecord(entry.after);
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  return keys.filter((key) => JSON.stringify(before[key]) !== JSON.stringify(after[key])).join(', ');
}

/** `surecron audit`: who changed which task, when. */
export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description('list audited changes, newest first')
    .option('--task <id>', 'only changes to this task', taskId)
    .option('--from <iso>', 'at or after (ISO 8601)', parser(isoTime))
    .option('--to <iso>', 'before (ISO 8601)', parser(isoTime))
    .option('--page-size <n>', 'entries per page (1–1000)', parser(pageSize))
    .option('--page-token <token>', 'page to fetch, from a previous listing', parser(pageToken))
    .action(
      async (
        options: { task?: string; from?: string; to?: string; pageSize?: number; pageToken?: string },
        cmd: Command,
      ) => {
        const { api, out } = contextOf(cmd);
        const { task, ...rest } = options;
        checkRange(rest.from, rest.to);
        const query = { taskId: task, ...rest };
        const { body } = await api.request<Page<AuditEntry>>('GET', '/v1/audit', { query });
        out.print(body, () =>
          out.table(
            ['AT', 'ACTOR', 'ACTION', 'TASK', 'CHANGED'],
            body.items.map((entry) => [entry.at, entry.actor, entry.action, entry.taskId, changedFields(entry)]),
          ),
        );
        notePage(out, body);
      },
    );
}
