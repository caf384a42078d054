import type { z } from 'zod';
import type { HttpGuard } from '../security/http-guard.js';
import { dstCorrections, TooManyDstCorrectionsError } from './dst-corrections.js';
import { TaskValidationError, type ValidationIssue } from './errors.js';
import { scheduleTimezone } from './schedule-def.js';
import { taskSpecSchema, type ScheduleDef, type TaskSpec } from './spec.js';

/** What a spec is checked against beyond its shape: the handlers this deployment has, the http target guard. */
export interface TaskRules {
  functionNames: ReadonlySet<string>;
  workflowNames: ReadonlySet<string>;
  http: HttpGuard;
}

export function zodIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message }));
}

/**
 * Validates a task spec: its shape (unknown fields refused), cron expressions, time zones, handler names and
 * http targets.
 * @throws {TaskValidationError} listing every problem found.
 */
export function validateTask(input: unknown, rules: TaskRules): TaskSpec {
  const parsed = taskSpecSchema.safeParse(input);
  if (!parsed.success) throw new TaskValidationError(zodIssues(parsed.error));
  const spec = parsed.data;
  const issues: ValidationIssue[] = [];
  const { handler } = spec;
  if (handler.type === 'function' && !rules.functionNames.has(handler.name)) {
    issues.push({
      path: 'handler.name',
      message: `no function handler named "${handler.name}"; known: ${[...rules.functionNames].join(', ')}`,
    });
  }
  if (handler.type === 'workflow' && !rules.workflowNames.has(handler.name)) {
    issues.push({
      path: 'handler.name',
      message: `no workflow named "${handler.name}"; known: ${[...rules.workflowNames].join(', ')}`,
    });
  }
  if (handler.type === 'http') {
    const refused = rules.http.refuse(handler.url);
    if (refused) issues.push({ path: 'handler.url', message: refused });
    for (const name of handler.secretHeaders ?? []) {
      if (!Object.keys(handler.headers ?? {}).some((h) => h.toLowerCase() === name.toLowerCase())) {
        issues.push({ path: 'handler.secretHeaders', message: `"${name}" is not among the headers` });
      }
    }
  }
  for (const url of [spec.notify?.onSuccess, spec.notify?.onFailure]) {
    const refused = url ? rules.http.refuse(url) : undefined;
    if (refused) issues.push({ path: 'notify', message: refused });
  }
  issues.push(...scheduleIssues(spec.schedule));
  if (issues.length) throw new TaskValidationError(issues);
  return spec;
}

/**
 * What a schedule's shape cannot tell: whether its cron prefixes and `timezone` agree on one time zone, and
 * whether its DST policy can be sent to the server in a bounded number of corrections.
 */
export function scheduleIssues(schedule: ScheduleDef, now = Date.now()): ValidationIssue[] {
  try {
    scheduleTimezone(schedule);
  } catch (error) {
    return [{ path: 'schedule.timezone', message: (error as Error).message }];
  }
  try {
    dstCorrections(schedule, now);
    return [];
  } catch (error) {
    if (error instanceof TooManyDstCorrectionsError) return [{ path: 'schedule.cron', message: error.message }];
    throw error;
  }
}

/**
 * Validates a list of tasks, each with {@link validateTask}; every refusal's path names its task (`tasks.2.id`).
 * @returns the specs, in order, or the issues of all refused tasks together.
 */
export function validateTasks(
  inputs: readonly unknown[],
  rules: TaskRules,
): { specs: TaskSpec[]; issues: ValidationIssue[] } {
  const specs: TaskSpec[] = [];
  const issues: ValidationIssue[] = [];
  for (const [index, input] of inputs.entries()) {
    try {
      specs.push(validateTask(input, rules));
    } catch (error) {
      if (!(error instanceof TaskValidationError)) throw error;
      for (const issue of error.issues)
        issues.push({ ...issue, path: `tasks.${index}${issue.path ? `.${issue.path}` : ''}` });
    }
  }
  return { specs, issues };
}
