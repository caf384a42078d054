import { log, proxyActivities, startChild, workflowInfo } from '@temporalio/workflow';
import type { createWatchdogActivities } from '../activities/watchdog.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { workflowTypes } from '../contract/workflow-types.js';

const { inspectTasks } = proxyActivities<ReturnType<typeof createWatchdogActivities>>({
  // A round describes every task's schedule: minutes at 10,000 tasks, so it heartbeats instead of racing a
  // short timeout.
  startToCloseTimeout: '15m',
  heartbeatTimeout: '1m',
  retry: { maximumAttempts: 3, initialInterval: '5s' },
});

/** One round of the dead-man's switch: inspect every task, raise what it found. */
export async function watchdog(): Promise<{ alerts: number }> {
  // A scheduled round judges as of its scheduled time, so consecutive rounds are exactly one interval apart.
  const scheduled = workflowInfo().typedSearchAttributes.get(searchAttributeKeys.scheduledStartTime);
  const found = await inspectTasks(scheduled ? { now: scheduled.toISOString() } : {});
  for (const [i, input] of found.entries()) {
    await startChild(workflowTypes.deliverAlert, {
      args: [input],
      workflowId: `${workflowInfo().workflowId}-alert-${i}`,
      parentClosePolicy: 'ABANDON',
    });
  }
  if (found.length) log.warn('watchdog raised alerts', { count: found.length });
  return { alerts: found.length };
}
