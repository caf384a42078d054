/** The example deployment's workflows: yours (`src/user/workflows.ts`) and the seed examples' order sync saga. */
export * from '../src/user/workflows.js';
export { syncOrders } from './sync-orders.js';
