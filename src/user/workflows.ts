/**
 * Your workflows: every one exported here can be a task's `{ type: 'workflow', name }` handler. They run in
 * Temporal's deterministic sandbox: import only `@temporalio/workflow` and types (`examples/sync-orders.ts` is one).
 */
export {};
