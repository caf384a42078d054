/** Your workflows: every one exported here can be a task's `{ type: 'workflow', name }` handler. */
export { syncOrders } from '../workflows/sync-orders.js';
