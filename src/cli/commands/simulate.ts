import type { Command } from 'commander';
import { z } from 'zod';
import type { SimulationResult } from '../../tasks/simulate.js';
import { taskIdSchema } from '../../tasks/spec.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { readTaskSpecs } from '../files.js';
import type { Output } from '../output.js';
import { checkRange, isoTime, parser } from '../validate.js';

interface SimulateOptions {
  file?: string;
  task?: string[];
  from?: string;
  to?: string;
  days?: number;
  startRate?: number;
}

const days = z.coerce.number().int().min(1).max(3653);
const startRate = z.coerce.number().positive().max(1_000_000);

/** The human rendering: the totals, the worst seconds, the suggestions and whether they remove the crowd. */
export function renderSimulation(out: Output, result: SimulationResult): string {
  const lines = [
    `${result.tasks.length} tasks, ${result.totalFires} fires from ${result.from} to ${result.to}; ` +
      `peak ${result.peak.firesPerSecond} starts/s${result.peak.at ? ` at ${result.peak.at}` : ''}`,
    ...result.rates.map(
      (rate) => `${rate.name} start rate ${rate.startRate}/s (${rate.source}): ${rate.crowdedSeconds} crowded seconds`,
    ),
  ];
  const dst = result.tasks.filter((task) => task.dstEventCount > 0);
  if (dst.length) {
    lines.push(
      '',
      'DST events:',
      out.table(
        ['TASK', 'EVENTS', 'SHIFTED', 'SKIPPED', 'ONCE', 'TWICE'],
        dst.map((task) => [task.id, task.dstEventCount, task.dst.shift, task.dst.skip, task.dst.once, task.dst.twice]),
      ),
    );
  }
  if (result.crowds.length) {
    lines.push(
      '',
      'Worst seconds:',
      out.table(
        ['AT (UTC)', 'STARTS', 'TASKS', 'E.G.'],
        result.crowds.map((crowd) => [crowd.at, crowd.fires, crowd.tasks, crowd.taskIds.slice(0, 3).join(', ')]),
      ),
    );
  }
  if (result.suggestions.length) {
    lines.push(
      '',
      'Suggestions:',
      out.table(
        ['TASK', 'JITTER', 'WAS', 'CROWDED FIRES'],
        result.suggestions.map((s) => [s.taskId, s.jitter, s.was ?? '', s.crowdedFires]),
      ),
    );
  }
  for (const task of result.unresolved) lines.push(`cannot spread ${task.taskId}: ${task.reason}`);
  const verification = result.verification;
  if (verification) {
    lines.push(
      '',
      verification.resolved
        ? `verified: with the suggestions applied, no second is crowded (peak ${verification.peak.firesPerSecond}/s)`
        : `with the suggestions applied, ${verification.crowdedSeconds} seconds stay crowded (peak ${verification.peak.firesPerSecond}/s)`,
    );
  }
  return lines.join('\n');
}

/** `surecron simulate`: a window of fires of tasks from a file and stored tasks, crowds and suggestions. */
export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description('simulate up to 10 years of fires: DST events, crowded seconds and jitters that remove them')
    .option('-f, --file <file>', 'task spec(s) as JSON or YAML ("-" for stdin), simulated as written')
    .option('--task <id...>', 'stored task(s) to include', (value: string, previous: string[] = []) => [
      ...previous,
      ...value.split(',').map((id) => parser(taskIdSchema)(id.trim())),
    ])
    .option('--from <iso>', 'window start (default now)', parser(isoTime))
    .option('--to <iso>', 'window end (default --days after --from)', parser(isoTime))
    .option('--days <n>', 'window length in days when --to is not given (default 365)', parser(days))
    .option('--start-rate <n>', 'workflow starts per second to hold crowds against', parser(startRate))
    .action(async (options: SimulateOptions, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      if (!options.file && !options.task?.length) throw new UsageError('simulate needs -f <task file> or --task <id>');
      if (options.to !== undefined && options.days !== undefined) throw new UsageError('give --to or --days, not both');
      const from = options.from ?? new Date().toISOString();
      const to = options.to ?? new Date(Date.parse(from) + (options.days ?? 365) * 86_400_000).toISOString();
      checkRange(from, to);
      const request = {
        ...(options.file ? { tasks: await readTaskSpecs(options.file) } : {}),
        ...(options.task?.length ? { taskIds: options.task } : {}),
        from,
        to,
        ...(options.startRate !== undefined ? { startRate: options.startRate } : {}),
      };
      const { body } = await api.request<SimulationResult>('POST', '/v1/simulate', { body: request });
      out.print(body, () => renderSimulation(out, body));
    });
}
