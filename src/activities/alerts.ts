import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { Alert } from '../contract/alert.js';
import type { AlertRouter } from '../alerting/router.js';
import type { TaskMetrics } from '../metrics/task-metrics.js';
import { admitUpdate, type AdmitDecision, type AdmitRequest } from '../contract/alert.js';
import { alertStateOperation } from '../alerting/silences.js';

export interface AlertActivityDeps {
  client: Client;
  taskQueue: string;
  router: AlertRouter;
  logger: Logger;
  metrics?: TaskMetrics;
}

/** Activities of the `deliverAlert` workflow. */
export function createAlertActivities({ client, taskQueue, router, logger, metrics }: AlertActivityDeps) {
  return {
    /** Asks the shared alert state whether this alert goes out (not silenced, not a duplicate). */
    async admitAlert(request: AdmitRequest): Promise<AdmitDecision> {
      // The update needs a worker to run the alert state; on worker shutdown, give up instead of waiting on it.
      const cancelled = new Promise<never>((_resolve, reject) => {
        const { cancellationSignal } = Context.current();
        cancellationSignal.addEventListener('abort', () => reject(new Error('alert admission cancelled')), {
          once: true,
        });
      });
      const decision = await Promise.race([
        client.workflow.executeUpdateWithStart(admitUpdate, {
          args: [request],
          startWorkflowOperation: alertStateOperation(taskQueue),
        }),
        cancelled,
      ]);
      if (decision !== 'send') {
        metrics?.alertDelivered({ channel: 'none', result: decision });
        logger.info({ taskId: request.alert.taskId, event: request.alert.event, decision }, 'alert not sent');
      }
      return decision;
    },
    /** The channels an alert goes to. */
    async alertTargets({ alert, channels }: { alert: Alert; channels?: string[] }): Promise<string[]> {
      return Promise.resolve(router.targets(alert, channels));
    },
    /** Sends an alert to one channel; retried by the workflow's policy, counted when it fails for good. */
    async sendAlert({ channel, alert }: { channel: string; alert: Alert }): Promise<void> {
      const { attempt } = Context.current().info;
      try {
        await router.send(channel, alert);
        metrics?.alertDelivered({ channel, result: 'sent' });
        logger.info({ channel, taskId: alert.taskId, event: alert.event, attempt }, 'alert sent');
      } catch (error) {
        logger.warn(
          { channel, taskId: alert.taskId, event: alert.event, attempt, err: (error as Error).message },
          'alert delivery failed',
        );
        if (attempt >= 5) metrics?.alertDelivered({ channel, result: 'failed' });
        throw error;
      }
    },
  };
}
