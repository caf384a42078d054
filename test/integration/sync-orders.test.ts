import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createOrderActivities } from '../../examples/orders.js';
import { RecordingOrderSystems } from '../../examples/recording-order-systems.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';

describe('the syncOrders workflow handler', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  async function triggerSync(
    prefix: string,
    input?: { failAt?: 'export' | 'confirm' },
  ): Promise<{ id: string; run: Run; calls: string[] }> {
    const taskQueue = uniqueId('tq');
    const id = uniqueId(prefix);
    const orders = new RecordingOrderSystems(['order-1', 'order-2']);
    const store = testStore(client, taskQueue);
    const { worker, connection } = await testWorker({ taskQueue, userActivities: createOrderActivities(orders) });
    let created = false;
    try {
      await store.create(
        taskSpecSchema.parse({
          id,
          schedule: { cron: '0 0 1 1 *' },
          handler: { type: 'workflow', name: 'syncOrders', ...(input ? { input } : {}) },
        }),
        'api',
      );
      created = true;
      await client.schedule.getHandle(id).trigger();
      const run = await worker.runUntil(
        waitFor(
          async () => (await listRuns(client, id)).items.find((r) => r.status !== 'running'),
          30_000,
          `the run of ${id} to close`,
        ),
      );
      return { id, run, calls: [...orders.calls] };
    } finally {
      if (created) await client.schedule.getHandle(id).delete();
      await connection.close();
    }
  }

  it('reserves, exports and confirms, in order, with the run idempotency key', async () => {
    const { id, run, calls } = await triggerSync('sync-ok');
    assert.equal(run.status, 'succeeded', run.error);
    const key = `${id}@${run.nominalTime}`;
    assert.deepEqual(calls, [
      `reserve:order-1+order-2:${key}`,
      `export:order-1+order-2:${key}`,
      `confirm:order-1+order-2:${key}`,
    ]);
    const child = await client.workflow.getHandle(`${run.workflowId}.child`).describe();
    assert.equal(child.type, 'syncOrders');
    assert.equal(child.status.name, 'COMPLETED');
  });

  it('compensates when confirm fails: reserve, export, then release; the run fails', async () => {
    const { id, run, calls } = await triggerSync('sync-fail', { failAt: 'confirm' });
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', new RegExp(`task ${id} failed`));
    const key = `${id}@${run.nominalTime}`;
    assert.deepEqual(calls, [
      `reserve:order-1+order-2:${key}`,
      `export:order-1+order-2:${key}`,
      `release:order-1+order-2:${key}`,
    ]);
    const child = await client.workflow.getHandle(`${run.workflowId}.child`).describe();
    assert.equal(child.status.name, 'FAILED');
  });
});
