import { fileURLToPath } from 'node:url';
import type { HandlerRegistry } from '../src/activities/handler.js';
import type { UserCode } from '../src/activities/user-code.js';
import { userCode } from '../src/user/index.js';
import { createExampleHandlers, type ExampleHandlerDeps } from './handlers.js';
import { createOrderActivities, type OrderSystems } from './orders.js';
import { RecordingOrderSystems } from './recording-order-systems.js';
import { exampleTasks } from './tasks.js';
import * as workflows from './workflows.js';

/** What the seed examples talk to; each defaults to an in-memory stand-in. */
export interface ExampleDeps extends ExampleHandlerDeps {
  orders?: OrderSystems;
}

/** The function handlers of the example deployment: yours (`src/user/`) and the seed examples'. */
export function createHandlers(deps: ExampleDeps = {}): HandlerRegistry {
  return { ...userCode.handlers, ...createExampleHandlers(deps) };
}

/**
 * The example deployment's code: yours (`src/user/`) and the seed examples, as surecron's own tests run it. The
 * product never imports it.
 */
export function exampleCode(deps: ExampleDeps = {}): UserCode {
  return {
    tasks: [...userCode.tasks, ...exampleTasks],
    handlers: createHandlers(deps),
    activities: { ...userCode.activities, ...createOrderActivities(deps.orders ?? new RecordingOrderSystems()) },
    workflowNames: Object.keys(workflows),
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  };
}
