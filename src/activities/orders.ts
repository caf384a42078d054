import { ApplicationFailure } from '@temporalio/activity';

/** The systems `syncOrders` talks to; tests inject a recording fake. */
export interface OrderSystems {
  pendingOrders: (since?: string) => Promise<string[]>;
  reserve: (orderIds: string[], key: string) => Promise<void>;
  release: (orderIds: string[], key: string) => Promise<void>;
  export: (orderIds: string[], key: string) => Promise<void>;
  confirm: (orderIds: string[], key: string) => Promise<void>;
}

/** A stand-in that records every call, used by the example task and by tests. */
export class RecordingOrderSystems implements OrderSystems {
  readonly calls: string[] = [];
  constructor(private readonly orders: string[] = ['order-1', 'order-2']) {}
  pendingOrders = (): Promise<string[]> => Promise.resolve(this.orders);
  private record(step: string, orderIds: string[], key: string): Promise<void> {
    this.calls.push(`${step}:${orderIds.join('+')}:${key}`);
    return Promise.resolve();
  }
  reserve = (ids: string[], key: string) => this.record('reserve', ids, key);
  release = (ids: string[], key: string) => this.record('release', ids, key);
  export = (ids: string[], key: string) => this.record('export', ids, key);
  confirm = (ids: string[], key: string) => this.record('confirm', ids, key);
}

interface OrderStep {
  orderIds: string[];
  idempotencyKey: string;
  fail?: boolean;
}

/** Activities of the `syncOrders` workflow. */
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
