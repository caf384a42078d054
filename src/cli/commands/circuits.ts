import type { Command } from 'commander';
import { contextOf } from '../context.js';

interface CircuitRow {
  key: string;
  state: 'closed' | 'open' | 'halfOpen';
  since: string;
  halfOpenAt?: string;
  recentFailures: number;
  recentCalls: number;
  failures: number;
  window: number;
  opened: number;
}

/** `surecron circuits`: each dependency's circuit breaker, its state and its recent calls. */
export function registerCircuits(program: Command): void {
  program
    .command('circuits')
    .description('circuit breakers: state per dependency, recent failures, times opened')
    .action(async (_options: unknown, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<{ items: CircuitRow[] }>('GET', '/v1/circuits');
      out.print(body, () =>
        out.table(
          ['KEY', 'STATE', 'SINCE', 'RECENT FAILURES', 'OPENS AT', 'OPENED'],
          body.items.map((c) => [
            c.key,
            c.state === 'open' && c.halfOpenAt ? `open (trial at ${c.halfOpenAt})` : c.state,
            c.since,
            `${c.recentFailures}/${c.recentCalls}`,
            `${c.failures}/${c.window}`,
            c.opened,
          ]),
        ),
      );
    });
}
