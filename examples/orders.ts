import { ApplicationFailure } from '@temporalio/activity';

/** The systems `syncOrders` talks to: the order store, the inventory and the ERP. */
export interface OrderSystems {
  pendingOrders: (since?: string) => Promise<string[]>;
  reserve: (orderIds: string[], key: string) => Promise<void>;
  release: (orderIds: string[], key: string) => Promise<void>;
  export: (orderIds: string[], key: string) => Promise<void>;
  confirm: (orderIds: string[], key: string) => Promise<void>;
}

interface OrderStep {
  orderIds: string[];
  idempotencyKey: string;
  fail?: boolean;
}

/** Activities of the `syncOrders` workflow, calling `systems`. */
export function createOrderActivities(systems: OrderSystems) {
  const step = (name: string, call: (ids: string[], key: string) => Promise<void>) => async (input: OrderStep) => {
    if (input.fail) throw ApplicationFailure.nonRetryable(`${name} rejected the orders`, 'OrderRejected');
    await call(input.orderIds, input.idempotencyKey);
  };
  return {
    fetchPendingOrders: ({ since }: { since?: string }) => systems.pendingOrders(since),
    reserveInventory: step('reserve', systems.reserve),
    releaseInventory: step('release', systems.release),
    exportOrders: step('export', systems.export),
    confirmOrders: step('confirm', systems.confirm),
  };
}
