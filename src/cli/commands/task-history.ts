import type { Command } from 'commander';
import { z } from 'zod';
import type { Run } from '../../runs/runs.js';
import { contextOf } from '../context.js';
import { segment } from '../http.js';
import { check, checkRange, isoTime, pageSize, pageToken, parser, taskId } from '../validate.js';
import { type Page, notePage, runTable } from '../views.js';

interface LedgerItem {
  nominalTime: string;
  outcome: string;
  workflowId?: string;
  attempts?: number;
}

interface RunsOptions {
  status?: string;
  from?: string;
  to?: string;
  pageSize?: number;
  pageToken?: string;
}

interface Explanation {
  verdict: string;
  summary: string;
  evidence: Record<string, unknown>;
}

interface Explained extends Explanation {
  taskId: string;
  at: string;
  nominalTime?: string;
  neighbours?: (Explanation & { nominalTime: string })[];
}

/** Evidence as indented `key: value` lines, nested objects one level deeper. */
function evidenceLines(value: unknown, indent: string): string[] {
  if (value === null || typeof value !== 'object') return [`${indent}${String(value)}`];
  return Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .flatMap(([key, v]) =>
      v !== null && typeof v === 'object' && Object.keys(v).length > 0
        ? [`${indent}${key}:`, ...evidenceLines(v, `${indent}  `)]
        : [`${indent}${key}: ${typeof v === 'string' ? v : JSON.stringify(v)}`],
    );
}

function explanationText(body: Explained): string {
  const head = `${body.nominalTime ?? body.at}  ${body.verdict}\n${body.summary}`;
  const lines = [head, ...evidenceLines(body.evidence, '  ')];
  for (const neighbour of body.neighbours ?? []) {
    lines.push('', `${neighbour.nominalTime}  ${neighbour.verdict}`, neighbour.summary);
    lines.push(...evidenceLines(neighbour.evidence, '  '));
  }
  return lines.join('\n');
}

interface Ledger {
  items: LedgerItem[];
  summary: Record<
    'expected' | 'succeeded' | 'failed' | 'running' | 'skipped' | 'missed' | 'duplicates' | 'dstSkipped',
    number
  >;
}

/**
 * Checks `--status` against the API's run statuses. runs.ts pulls in the Temporal client, so it is loaded only
 * when a status is given, keeping every other command's start-up fast.
 */
async function checkStatus(status: string | undefined): Promise<void> {
  if (status === undefined) return;
  const { runStatuses } = await import('../../runs/runs.js');
  check(z.enum(runStatuses), status, '--status');
}

/** `tasks runs|ledger|explain`: what ran, what should have, and why a fire did or did not run. */
export function registerTaskHistory(tasks: Command): void {
  tasks
    .command('runs')
    .description("list a task's runs, newest first")
    .argument('<id>', 'task id', taskId)
    .option('--status <status>', 'only runs with this status (running, succeeded, failed, …)')
    .option('--from <iso>', 'nominal time at or after (ISO 8601)', parser(isoTime))
    .option('--to <iso>', 'nominal time before (ISO 8601)', parser(isoTime))
    .option('--page-size <n>', 'runs per page (1–1000)', parser(pageSize))
    .option('--page-token <token>', 'page to fetch, from a previous listing', parser(pageToken))
    .action(async (id: string, options: RunsOptions, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      await checkStatus(options.status);
      checkRange(options.from, options.to);
      const path = `/v1/tasks/${segment(id)}/runs`;
      const { body } = await api.request<Page<Run>>('GET', path, { query: { ...options } });
      out.print(body, () => runTable(out, body.items));
      notePage(out, body);
    });

  tasks
    .command('ledger')
    .description('account for every expected run in a time range')
    .argument('<id>', 'task id', taskId)
    .requiredOption('--from <iso>', 'start of the range (ISO 8601)', parser(isoTime))
    .requiredOption('--to <iso>', 'end of the range (ISO 8601)', parser(isoTime))
    .action(async (id: string, options: { from: string; to: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      checkRange(options.from, options.to);
      const { body } = await api.request<Ledger>('GET', `/v1/tasks/${segment(id)}/ledger`, { query: { ...options } });
      out.print(body, () => {
        const rows = body.items.map((item) => [item.nominalTime, item.outcome, item.workflowId, item.attempts]);
        const summary = Object.entries(body.summary)
          .map(([name, value]) => `${name} ${value}`)
          .join(', ');
        return `${out.table(['NOMINAL TIME', 'OUTCOME', 'WORKFLOW ID', 'ATTEMPTS'], rows)}\n\n${summary}`;
      });
    });

  tasks
    .command('explain')
    .description('why a task did or did not run at an instant: a verdict and its evidence')
    .argument('<id>', 'task id', taskId)
    .requiredOption('--at <iso>', 'the nominal time or instant to explain (ISO 8601)', parser(isoTime))
    .action(async (id: string, options: { at: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const path = `/v1/tasks/${segment(id)}/explain`;
      const { body } = await api.request<Explained>('GET', path, { query: { at: options.at } });
      out.print(body, () => explanationText(body));
    });
}
