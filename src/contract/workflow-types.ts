/**
 * The workflow types surecron registers, by name: what a Schedule, a client or a parent workflow starts. Each is
 * exported under this name by `src/workflows/index.ts`.
 */
export const workflowTypes = {
  runTask: 'runTask',
  taskChange: 'taskChange',
  alertState: 'alertState',
  deliverAlert: 'deliverAlert',
  watchdog: 'watchdog',
  taskGroup: 'taskGroup',
  circuitBreaker: 'circuitBreaker',
} as const;

/** surecron's own workflows, which a task cannot name as its handler. */
export const internalWorkflowTypes: ReadonlySet<string> = new Set(Object.values(workflowTypes));

/** The Schedule that runs the watchdog's rounds. */
export const WATCHDOG_SCHEDULE_ID = 'surecron-watchdog';
