import type { TaskSpecInput } from '../tasks/spec.js';

/**
 * Your tasks, declared in code. `npm start` and `npm run apply` reconcile them into Temporal Schedules (schedule
 * id = task id); remove one here and `apply --prune` deletes its schedule.
 */
export const tasks: TaskSpecInput[] = [
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
];
