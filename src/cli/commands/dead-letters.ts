import { Option, type Command } from 'commander';
import { contextOf } from '../context.js';
import { segment } from '../http.js';
import { checkRange, isoTime, pageSize, pageToken, parser, taskId } from '../validate.js';
import { notePage, objectDetails, type Page } from '../views.js';

interface DeadLetter {
  taskId: string;
  workflowId: string;
  runId: string;
  nominalTime: string;
  attempts: number;
  trigger: string;
  errorType?: string;
  error?: string;
}

const runIdOption = (): Option => new Option('--run-id <id>', 'the failed run (default: the fire’s latest)');

/** `surecron dead-letters list|retry|resolve`: runs that failed for good, handled by hand. */
export function registerDeadLetters(program: Command): void {
  const dead = program.command('dead-letters').description('runs that failed for good, across tasks');

  dead
    .command('list', { isDefault: true })
    .description('list dead letters, the latest failure first (retried and resolved ones left out)')
    .option('--task <id>', 'only this task', taskId)
    .option('--tag <key=value>', 'only tasks with this tag')
    .option('--from <iso>', 'nominal time at or after (ISO 8601)', parser(isoTime))
    .option('--to <iso>', 'nominal time before (ISO 8601)', parser(isoTime))
    .option('--error-type <type>', 'only runs whose handler failed with this error type')
    .option('--page-size <n>', 'runs per page (1–1000)', parser(pageSize))
    .option('--page-token <token>', 'page to fetch, from a previous listing', parser(pageToken))
    .action(
      async (
        options: {
          task?: string;
          tag?: string;
          from?: string;
          to?: string;
          errorType?: string;
          pageSize?: number;
          pageToken?: string;
        },
        cmd: Command,
      ) => {
        const { api, out } = contextOf(cmd);
        const { task, ...rest } = options;
        checkRange(rest.from, rest.to);
        const { body } = await api.request<Page<DeadLetter>>('GET', '/v1/dead-letters', {
          query: { taskId: task, ...rest },
        });
        out.print(body, () =>
          out.table(
            ['TASK', 'NOMINAL', 'WORKFLOW ID', 'ATTEMPTS', 'ERROR TYPE', 'ERROR'],
            body.items.map((d) => [
              d.taskId,
              d.nominalTime,
              d.workflowId,
              d.attempts,
              d.errorType ?? '',
              d.error ?? '',
            ]),
          ),
        );
        notePage(out, body);
      },
    );

  dead
    .command('retry')
    .description('run a dead letter’s fire again: same nominal time and idempotency key')
    .argument('<workflowId>', 'the fire’s workflow id')
    .addOption(runIdOption())
    .addOption(
      new Option('--spec <which>', 'the task’s current spec or the failed run’s own').choices(['current', 'original']),
    )
    .action(async (workflowId: string, options: { runId?: string; spec?: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<unknown>('POST', `/v1/runs/${segment(workflowId)}/retry`, { body: options });
      out.print(body, () => objectDetails(out, body));
    });

  dead
    .command('resolve')
    .description('mark a dead letter handled by hand (audited)')
    .argument('<workflowId>', 'the fire’s workflow id')
    .requiredOption('--note <text>', 'what was done about it')
    .addOption(runIdOption())
    .action(async (workflowId: string, options: { runId?: string; note: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<unknown>('POST', `/v1/runs/${segment(workflowId)}/resolve`, { body: options });
      out.print(body, () => objectDetails(out, body));
    });
}
