import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type { UpdateDefinition } from '@temporalio/common';
import type { Alert, RaiseRequest, RaiseResult, Severity } from '../contract/alert.js';
import type { AlertRouter } from '../alerting/router.js';
import type { TaskMetrics } from '../metrics/task-metrics.js';
import { admitUpdate, escalateUpdate, raiseUpdate, type AdmitDecision, type AdmitRequest } from '../contract/alert.js';
import { alertStateOperation } from '../alerting/alert-state.js';

export interface AlertActivityDeps {
  client: Client;
  taskQueue: string;
  router: AlertRouter;
  logger: Logger;
  metrics?: TaskMetrics;
}

/** Activities of the `deliverAlert` workflow. */
export function createAlertActivities({ client, taskQueue, router, logger, metrics }: AlertActivityDeps) {
  /** An update of the shared alert state; on worker shutdown, given up instead of waiting on a worker to run it. */
  const update = <Ret, Args extends unknown[]>(definition: UpdateDefinition<Ret, Args>, ...args: Args) => {
    const cancelled = new Promise<never>((_resolve, reject) => {
      const { cancellationSignal } = Context.current();
      cancellationSignal.addEventListener('abort', () => reject(new Error('alert state update cancelled')), {
        once: true,
      });
    });
    return Promise.race([
      client.workflow.executeUpdateWithStart(definition, {
        args,
        startWorkflowOperation: alertStateOperation(taskQueue),
      }),
      cancelled,
    ]);
  };
  const notSent = (alert: Alert, decision: Exclude<RaiseResult['decision'], 'send'>) => {
    metrics?.alertDelivered({ channel: 'none', result: decision });
    logger.info({ taskId: alert.taskId, event: alert.event, decision }, 'alert not sent');
  };
  return {
    /** Deliveries started before open alerts: whether this alert goes out (not silenced, not a duplicate). */
    async admitAlert(request: AdmitRequest): Promise<AdmitDecision> {
      const decision = await update(admitUpdate, request);
      if (decision !== 'send') notSent(request.alert, decision);
      return decision;
    },
    /** Raises the alert's condition in the shared alert state: sent, re-alerted, or held back (and why). */
    async raiseAlert(request: RaiseRequest): Promise<RaiseResult> {
      const raised = await update(raiseUpdate, request);
      if (raised.decision !== 'send') notSent(request.alert, raised.decision);
      return raised;
    },
    /** Raises an unacknowledged alert's severity; false when it was acknowledged or cleared meanwhile. */
    async escalateAlert(request: { id: string; to: Severity }): Promise<boolean> {
      return update(escalateUpdate, request);
    },
    /** The channels an alert goes to (deliveries started before open alerts). */
    async alertTargets({ alert, channels }: { alert: Alert; channels?: string[] }): Promise<string[]> {
      return Promise.resolve(router.targets(alert, channels));
    },
    /** The channels an alert goes to, and when it escalates if nobody acknowledges it. */
    async alertRoute({
      alert,
      channels,
    }: {
      alert: Alert;
      channels?: string[];
    }): Promise<{ targets: string[]; escalateAfterMs?: number }> {
      const escalateAfterMs = router.escalateAfterMs(alert.severity);
      return Promise.resolve({
        targets: router.targets(alert, channels),
        ...(escalateAfterMs !== undefined ? { escalateAfterMs } : {}),
      });
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
