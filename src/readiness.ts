import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;
import type { Readiness } from './api/routes/health.js';

/**
 * Ready when Temporal answers and at least one worker has polled surecron's task queue recently. Works the
 * same whether the worker runs in this process or elsewhere.
 */
export function temporalReadiness(client: Client, taskQueue: string): () => Promise<Readiness> {
  return async () => {
    const checks: Record<string, string> = {};
    try {
      await client.workflowService.getSystemInfo({});
      checks.temporal = 'ok';
    } catch (error) {
      checks.temporal = `unreachable: ${(error as Error).message.split('\n')[0]}`;
      checks.worker = 'unknown';
      return { ready: false, checks };
    }
    let pollers: unknown[];
    try {
      ({ pollers } = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }));
    } catch (error) {
      checks.worker = `unknown: ${(error as Error).message.split('\n')[0]}`;
      return { ready: false, checks };
    }
    checks.worker =
      pollers.length > 0 ? `ok (${pollers.length} poller${pollers.length > 1 ? 's' : ''})` : 'no worker polling';
    return { ready: pollers.length > 0, checks };
  };
}
