/** Every workflow the surecron worker runs: `runTask` and the user workflows tasks may name as handlers. */
export { runTask } from './run-task.js';
export { syncOrders } from './sync-orders.js';
export { taskChange } from './task-change.js';
export { alertState } from './alert-state.js';
export { deliverAlert } from './deliver-alert.js';
export { watchdog } from './watchdog.js';
