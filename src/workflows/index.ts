/** Every workflow the surecron worker runs: `runTask` and the user workflows tasks may name as handlers. */
export { runTask } from './run-task.js';
export { syncOrders } from './sync-orders.js';
export { taskChange } from './task-change.js';
