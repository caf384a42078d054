import type { Command } from 'commander';
import { contextOf } from '../context.js';

interface GroupRow {
  group: string;
  kind: 'concurrency' | 'rate';
  limit?: number;
  perSecond?: number;
  running: number;
  waiting: number;
  granted: number;
}

/** `surecron groups`: concurrency and rate groups with their limits, runs holding a permit and runs waiting. */
export function registerGroups(program: Command): void {
  program
    .command('groups')
    .description('concurrency and rate groups: limit, running, waiting')
    .action(async (_options: unknown, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<{ items: GroupRow[] }>('GET', '/v1/groups');
      out.print(body, () =>
        out.table(
          ['GROUP', 'KIND', 'LIMIT', 'RUNNING', 'WAITING', 'GRANTED'],
          body.items.map((g) => [
            g.group,
            g.kind,
            g.kind === 'concurrency' ? String(g.limit) : `${g.perSecond}/s`,
            g.running,
            g.waiting,
            g.granted,
          ]),
        ),
      );
    });
}
