import { ApplicationFailure, log, proxyActivities } from '@temporalio/workflow';
import type { createOrderActivities } from './orders.js';

export interface SyncOrdersInput {
  taskId: string;
  nominalTime: string;
  idempotencyKey: string;
  input?: { since?: string; failAt?: 'export' | 'confirm' };
}

const { fetchPendingOrders, reserveInventory, releaseInventory, exportOrders, confirmOrders } = proxyActivities<
  ReturnType<typeof createOrderActivities>
>({
  startToCloseTimeout: '1m',
  retry: {
    maximumAttempts: 3,
    initialInterval: '1s',
    backoffCoefficient: 2,
    nonRetryableErrorTypes: ['OrderRejected'],
  },
});

/**
 * The order sync from the seed articles, as a saga: reserve inventory, export the orders to the ERP, confirm
 * them. When a later step fails for good, the completed steps are compensated in reverse order, so a failed
 * run leaves nothing half-done.
 */
export async function syncOrders({
  idempotencyKey,
  input,
}: SyncOrdersInput): Promise<{ synced: number; orderIds: string[] }> {
  const compensations: (() => Promise<void>)[] = [];
  try {
    const orderIds = await fetchPendingOrders({ since: input?.since });
    if (orderIds.length === 0) return { synced: 0, orderIds };
    await reserveInventory({ orderIds, idempotencyKey });
    compensations.unshift(() => releaseInventory({ orderIds, idempotencyKey }));
    await exportOrders({ orderIds, idempotencyKey, fail: input?.failAt === 'export' });
    await confirmOrders({ orderIds, idempotencyKey, fail: input?.failAt === 'confirm' });
    return { synced: orderIds.length, orderIds };
  } catch (error) {
    log.warn('syncOrders failed; compensating', { steps: compensations.length });
    for (const compensate of compensations) await compensate();
    throw ApplicationFailure.fromError(error, { nonRetryable: true });
  }
}
