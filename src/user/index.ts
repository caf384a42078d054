import { fileURLToPath } from 'node:url';
import { createHandlers } from '../activities/handlers/index.js';
import { createOrderActivities, RecordingOrderSystems } from '../activities/orders.js';
import type { UserCode } from '../activities/user-code.js';
import { codeTasks } from '../tasks/catalog.js';
import * as workflows from './workflows.js';

/** Your code, as this deployment runs it: tasks, handlers, the activities and names of your workflows. */
export const userCode: UserCode = {
  tasks: codeTasks,
  handlers: createHandlers(),
  activities: createOrderActivities(new RecordingOrderSystems()),
  workflowNames: Object.keys(workflows),
  workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
};
