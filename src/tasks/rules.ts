import { functionHandlerNames } from '../activities/handlers/index.js';
import { createHttpGuard } from '../activities/http-guard.js';
import * as workflows from '../workflows/index.js';
import { RUN_TASK_WORKFLOW } from './schedule.js';
import type { TaskRules } from './validate.js';

/** surecron's own workflows, which tasks cannot name as handlers. */
const internalWorkflows = new Set([RUN_TASK_WORKFLOW, 'taskChange', 'alertState', 'deliverAlert', 'watchdog']);

/** Workflows a task may name as its handler: every exported workflow but surecron's own. */
export const userWorkflowNames: ReadonlySet<string> = new Set(
  Object.keys(workflows).filter((name) => !internalWorkflows.has(name)),
);

/** The rules of this deployment: its registered handlers and the http allow-list. */
export function taskRules(httpAllowlist?: string): TaskRules {
  return {
    functionNames: functionHandlerNames,
    workflowNames: userWorkflowNames,
    http: createHttpGuard(httpAllowlist),
  };
}
