import { fileURLToPath } from 'node:url';
import type { UserCode } from '../activities/user-code.js';
import { handlers } from './handlers.js';
import { tasks } from './tasks.js';
import * as workflows from './workflows.js';

/**
 * Your code, as this deployment runs it: the tasks of `./tasks.ts`, the handlers of `./handlers.ts`, the
 * workflows of `./workflows.ts` and the activities they call (none yet: add yours here, built from real clients).
 */
export const userCode: UserCode = {
  tasks,
  handlers,
  activities: {},
  workflowNames: Object.keys(workflows),
  workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
};
