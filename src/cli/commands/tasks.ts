import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import type { TaskView } from '../../api/task-view.js';
import { contextOf } from '../context.js';
import { CancelledError, UsageError } from '../errors.js';
import { readTaskSpecs } from '../files.js';
import { segment } from '../http.js';
import { booleanText, pageSize, pageToken, parser, tagFilter, taskId } from '../validate.js';
import { type Page, notePage, taskDetails, taskTable } from '../views.js';
import { registerTaskActions } from './task-actions.js';
import { registerTaskHistory } from './task-history.js';

interface ApplyResult {
  created: string[];
  updated: string[];
  unchanged: string[];
  deleted: string[];
  skipped: { id: string; reason: string }[];
}

async function readOneSpec(file: string) {
  const specs = await readTaskSpecs(file);
  const [spec] = specs;
  if (!spec || specs.length > 1)
    throw new UsageError(`${file} holds ${specs.length} tasks; use "tasks apply" for many`);
  return spec;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

function registerReads(tasks: Command): void {
  tasks
    .command('list')
    .description('list tasks')
    .option('--tag <key=value>', 'only tasks with this tag', parser(tagFilter))
    .option('--paused <true|false>', 'only paused (true) or active (false) tasks', parser(booleanText))
    .option('--page-size <n>', 'tasks per page (1–1000)', parser(pageSize))
    .option('--page-token <token>', 'page to fetch, from a previous listing', parser(pageToken))
    .action(async (options: { tag?: string; paused?: string; pageSize?: number; pageToken?: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<Page<TaskView>>('GET', '/v1/tasks', { query: { ...options } });
      out.print(body, () => taskTable(out, body.items));
      notePage(out, body);
    });

  tasks
    .command('get')
    .description('show one task')
    .argument('<id>', 'task id', taskId)
    .action(async (id: string, _options: unknown, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<TaskView>('GET', `/v1/tasks/${segment(id)}`);
      out.print(body, () => taskDetails(out, body));
    });
}

function registerWrites(tasks: Command): void {
  tasks
    .command('create')
    .description('create a task from a JSON or YAML spec file (fails if it exists)')
    .requiredOption('-f, --file <file>', 'task spec file ("-" for stdin)')
    .action(async (options: { file: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const spec = await readOneSpec(options.file);
      const { body } = await api.request<TaskView>('POST', '/v1/tasks', { body: spec });
      out.print(body, () => `created task ${body.id}\n\n${taskDetails(out, body)}`);
    });

  tasks
    .command('update')
    .description('replace a task with the spec in a file (creates it when missing)')
    .requiredOption('-f, --file <file>', 'task spec file ("-" for stdin)')
    .action(async (options: { file: string }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const spec = await readOneSpec(options.file);
      const { status, body } = await api.request<TaskView>('PUT', `/v1/tasks/${segment(spec.id)}`, { body: spec });
      const verb = status === 201 ? 'created' : 'updated';
      out.print(body, () => `${verb} task ${body.id}\n\n${taskDetails(out, body)}`);
    });

  tasks
    .command('apply')
    .description('create or update every task in a file (one spec or an array)')
    .requiredOption('-f, --file <file>', 'task spec file ("-" for stdin)')
    .option('--prune', 'delete API-managed tasks the file does not mention')
    .action(async (options: { file: string; prune?: boolean }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const specs = await readTaskSpecs(options.file);
      const request = { tasks: specs, ...(options.prune ? { prune: true } : {}) };
      const { body } = await api.request<ApplyResult>('POST', '/v1/apply', { body: request });
      out.print(body, () =>
        out.table(
          ['ACTION', 'ID', 'REASON'],
          [
            ...body.created.map((id) => ['created', id]),
            ...body.updated.map((id) => ['updated', id]),
            ...body.unchanged.map((id) => ['unchanged', id]),
            ...body.deleted.map((id) => ['deleted', id]),
            ...body.skipped.map(({ id, reason }) => ['skipped', id, reason]),
          ],
        ),
      );
    });

  tasks
    .command('delete')
    .description('delete a task (asks first on a terminal; --yes otherwise)')
    .argument('<id>', 'task id', taskId)
    .option('-y, --yes', 'do not ask for confirmation')
    .action(async (id: string, options: { yes?: boolean }, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      if (!options.yes) {
        if (!process.stdin.isTTY) throw new UsageError(`refusing to delete task ${id} without --yes (no terminal)`);
        if (!(await confirm(`Delete task ${id}?`))) throw new CancelledError('not confirmed; nothing deleted');
      }
      await api.request('DELETE', `/v1/tasks/${segment(id)}`);
      out.message(`deleted task ${id}`);
    });
}

/** `surecron tasks …`: the task catalogue, its actions and its history. */
export function registerTasks(program: Command): void {
  const tasks = program.command('tasks').description('manage scheduled tasks');
  registerReads(tasks);
  registerWrites(tasks);
  registerTaskActions(tasks);
  registerTaskHistory(tasks);
}
