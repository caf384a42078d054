/** surecron's own workflows, registered under the names in `src/contract/workflow-types.ts`. */
export { runTask } from './run-task.js';
export { taskChange } from './task-change.js';
export { alertState } from './alert-state.js';
export { deliverAlert } from './deliver-alert.js';
export { watchdog } from './watchdog.js';
export { taskGroup } from './task-group.js';
export { circuitBreaker } from './circuit-breaker.js';
