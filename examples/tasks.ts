import type { TaskSpecInput } from '../src/tasks/spec.js';

/** The seed articles' tasks: a sessions cleanup, a metrics report and an order sync saga. */
export const exampleTasks: TaskSpecInput[] = [
  {
    id: 'sessions.cleanup',
    description: 'Deletes expired sessions every 5 minutes',
    tags: { team: 'platform' },
    schedule: { cron: '0 */5 * * * ?' },
    handler: { type: 'function', name: 'cleanupExpiredSessions' },
    retry: { maxAttempts: 5, initialInterval: '2s', backoffCoefficient: 2, maxInterval: '1m' },
    timeouts: { attempt: '2m' },
  },
  {
    id: 'metrics.report',
    description: 'Reports process metrics at the top of every hour (Shanghai time)',
    schedule: { cron: '0 * * * *', timezone: 'Asia/Shanghai' },
    handler: { type: 'function', name: 'reportMetrics' },
  },
  {
    id: 'orders.sync',
    description: 'Syncs pending orders to the ERP every 15 minutes on weekdays, compensating on failure',
    schedule: { cron: '0 0/15 8-20 ? * MON-FRI', timezone: 'Asia/Shanghai' },
    handler: { type: 'workflow', name: 'syncOrders' },
    overlap: 'skip',
  },
];

/** The example task with this id. */
export function exampleTask(id: string): TaskSpecInput {
  const task = exampleTasks.find((t) => t.id === id);
  if (!task) throw new Error(`no example task ${id}`);
  return task;
}
