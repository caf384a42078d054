import type { TaskSpecInput } from './spec.js';

/**
 * Tasks declared in code. `npm start` and `npm run apply` reconcile them into Temporal Schedules (schedule id =
 * task id); remove one here and `apply --prune` deletes its schedule.
 */
export const codeTasks: TaskSpecInput[] = [
  {
    id: 'example.heartbeat',
    description: 'Example: logs a heartbeat every 10 seconds to show the pipeline works',
    tags: { team: 'platform', kind: 'example' },
    schedule: { every: '10s' },
    handler: { type: 'function', name: 'heartbeat' },
    retry: { maxAttempts: 3, initialInterval: '1s' },
    timeouts: { attempt: '30s' },
    overlap: 'skip',
    catchupWindow: '1m',
  },
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
