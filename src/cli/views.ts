import type { TaskView } from '../api/task-view.js';
import type { Run } from '../runs/runs.js';
import type { Cell, Output } from './output.js';

/** A list page as the API returns it. */
export interface Page<T> {
  items: T[];
  nextPageToken?: string;
}

/** `every 5m`, `cron 0 9 * * 1-5 | 0 12 * * *`, with the time zone when set. */
export function scheduleText(schedule: TaskView['spec']['schedule']): string {
  const parts: string[] = [];
  if (schedule.cron !== undefined) parts.push(`cron ${[schedule.cron].flat().join(' | ')}`);
  if (schedule.every !== undefined)
    parts.push(`every ${schedule.every}${schedule.offset ? `+${schedule.offset}` : ''}`);
  if (schedule.timezone) parts.push(`(${schedule.timezone})`);
  return parts.join(' ');
}

/** `http POST https://…`, `function name`, `workflow name`. */
export function handlerText(handler: TaskView['spec']['handler']): string {
  return handler.type === 'http'
    ? `http ${handler.method ?? 'POST'} ${handler.url}`
    : `${handler.type} ${handler.name}`;
}

const pausedText = (task: TaskView): string =>
  task.state.paused ? `yes${task.state.note ? ` (${task.state.note})` : ''}` : 'no';

/** One row per task. */
export function taskTable(out: Output, tasks: TaskView[]): string {
  return out.table(
    ['ID', 'SCHEDULE', 'HANDLER', 'PAUSED', 'NEXT RUN', 'LAST RUN', 'SOURCE'],
    tasks.map((task) => {
      const last = task.recentRuns[0];
      return [
        task.id,
        scheduleText(task.spec.schedule),
        handlerText(task.spec.handler),
        pausedText(task),
        task.nextRuns[0],
        last ? `${last.status} ${last.nominalTime}` : '',
        task.source,
      ];
    }),
  );
}

/** One row per run. */
export function runTable(out: Output, runs: Run[]): string {
  return out.table(
    ['NOMINAL TIME', 'STATUS', 'ATTEMPTS', 'TRIGGER', 'STARTED', 'CLOSED', 'WORKFLOW ID', 'ERROR'],
    runs.map((run) => [
      run.nominalTime,
      run.status,
      run.attempts,
      run.trigger,
      run.startedAt,
      run.closedAt,
      run.workflowId,
      run.error,
    ]),
  );
}

/** A task in full: its settings, upcoming runs and recent runs. */
export function taskDetails(out: Output, task: TaskView): string {
  const { spec, counts } = task;
  const pairs: [string, Cell][] = [
    ['ID', task.id],
    ['Description', spec.description],
    ['Source', task.source],
    ['Schedule', scheduleText(spec.schedule)],
    ['Handler', handlerText(spec.handler)],
    ['Overlap', spec.overlap],
    ['Paused', pausedText(task)],
    [
      'Tags',
      Object.entries(spec.tags ?? {})
        .map(([k, v]) => `${k}=${v}`)
        .join(', '),
    ],
    [
      'Runs',
      `${counts.taken} taken, ${counts.missedCatchup} missed (catch-up), ${counts.skippedOverlap} skipped (overlap)`,
    ],
    ['Next runs', task.nextRuns.join(', ')],
    ['Created', task.createdAt],
    ['Updated', task.updatedAt],
  ];
  const recent = task.recentRuns.length ? `\n\nRecent runs:\n${runTable(out, task.recentRuns)}` : '';
  return out.details(pairs.filter(([, value]) => value !== undefined && value !== '')) + recent;
}

/** Any JSON object as name/value pairs (nested values as compact JSON). */
export function objectDetails(out: Output, value: unknown): string {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return JSON.stringify(value, null, 2);
  return out.details(
    Object.entries(value).map(([name, field]): [string, Cell] => [
      name,
      field !== null && typeof field === 'object' ? JSON.stringify(field) : (field as Cell),
    ]),
  );
}

/** Tells a human how to get the next page (stderr, so piped output stays clean). */
export function notePage(out: Output, page: Page<unknown>): void {
  if (page.nextPageToken) out.note(`more: --page-token ${page.nextPageToken}`);
}
