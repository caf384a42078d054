import type { OrderSystems } from './orders.js';

/** Order systems that record every call as `<step>:<order ids>:<key>`: the examples' stand-in, and tests' fake. */
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
