import { Option, type Command } from 'commander';
import type { TaskView } from '../../api/task-view.js';
import { backfillOverlapPolicies } from '../../tasks/backfill.js';
import { contextOf } from '../context.js';
import { segment } from '../http.js';
import { checkRange, isoTime, parser, taskId } from '../validate.js';
import { objectDetails, taskDetails } from '../views.js';

function registerPauseResume(tasks: Command, action: 'pause' | 'resume'): void {
  const done = action === 'pause' ? 'paused' : 'resumed';
  tasks
    .command(action)
    .description(`${action} a task's schedule`)
    .argument('<id>', 'task id', taskId)
    .option('--note <text>', 'why (kept with the task and in the audit log)')
    .action(async (id: string, options: { note?: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const request = options.note === undefined ? {} : { note: options.note };
      const { body } = await api.request<TaskView>('POST', `/v1/tasks/${segment(id)}/${action}`, { body: request });
      out.print(body, () => `${done} task ${body.id}\n\n${taskDetails(out, body)}`);
    });
}

/** `tasks pause|resume|trigger|backfill`. */
export function registerTaskActions(tasks: Command): void {
  registerPauseResume(tasks, 'pause');
  registerPauseResume(tasks, 'resume');

  tasks
    .command('trigger')
    .description('start one run now')
    .argument('<id>', 'task id', taskId)
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<{ workflowId: string; runId: string }>(
        'POST',
        `/v1/tasks/${segment(id)}/trigger`,
      );
      out.print(body, () => objectDetails(out, body));
    });

  tasks
    .command('backfill')
    .description('run the schedule over a past time range')
    .argument('<id>', 'task id', taskId)
    .requiredOption('--from <iso>', 'start of the range (ISO 8601)', parser(isoTime))
    .requiredOption('--to <iso>', 'end of the range (ISO 8601)', parser(isoTime))
    .addOption(
      new Option('--overlap <policy>', 'overlap policy for the backfilled runs').choices(backfillOverlapPolicies),
    )
    .action(async (id: string, options: { from: string; to: string; overlap?: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      checkRange(options.from, options.to);
      const { body } = await api.request<unknown>('POST', `/v1/tasks/${segment(id)}/backfill`, { body: options });
      out.print(body, () => objectDetails(out, body));
    });
}
