import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnvironment, loadHistories, replayHistories, runFire } from 'surecron/testing';
import { exampleCode } from './index.js';
import { RecordingOrderSystems } from './recording-order-systems.js';
import { exampleTask } from './tasks.js';

const nominalTime = '2026-03-02T01:15:00Z';
const key = `orders.sync@${nominalTime}`;

describe('the orders.sync task (the syncOrders saga), one fire', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTestEnvironment();
  });
  after(async () => {
    await env.teardown();
  });

  const fire = (orders: RecordingOrderSystems, input?: unknown) =>
    runFire(env, exampleCode({ orders }), { task: exampleTask('orders.sync'), nominalTime, input });

  it('reserves, exports and confirms the pending orders, in order, under the run idempotency key', async () => {
    const orders = new RecordingOrderSystems(['order-1', 'order-2']);
    const outcome = await fire(orders);
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.nominalTime, nominalTime);
    assert.equal(outcome.attempts, 1);
    assert.deepEqual(outcome.result, { synced: 2, orderIds: ['order-1', 'order-2'] });
    assert.deepEqual(orders.calls, [
      `reserve:order-1+order-2:${key}`,
      `export:order-1+order-2:${key}`,
      `confirm:order-1+order-2:${key}`,
    ]);
  });

  it('compensates when the ERP rejects the confirmation: the reservation is released and the run fails', async () => {
    const orders = new RecordingOrderSystems(['order-7']);
    const outcome = await fire(orders, { failAt: 'confirm' });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.attempts, 1);
    // The saga rethrows what failed as its own failure: the run reports the failed activity.
    assert.deepEqual(outcome.error, { message: 'Activity task failed', type: 'ActivityFailure' });
    assert.deepEqual(orders.calls, [`reserve:order-7:${key}`, `export:order-7:${key}`, `release:order-7:${key}`]);
  });

  it('with nothing pending, touches nothing', async () => {
    const orders = new RecordingOrderSystems([]);
    const outcome = await fire(orders);
    assert.deepEqual(outcome.result, { synced: 0, orderIds: [] });
    assert.deepEqual(orders.calls, []);
  });

  it("replays: the saved histories and a fresh fire's history run unchanged on today's syncOrders", async () => {
    const outcome = await fire(new RecordingOrderSystems(['order-1']));
    const fresh = await env.client.workflow.getHandle(`${outcome.workflowId}.child`).fetchHistory();
    const saved = loadHistories(new URL('./histories/', import.meta.url).pathname);
    const results = await replayHistories(exampleCode(), [...saved, { workflowId: 'fresh', history: fresh }]);
    assert.deepEqual(
      results.map((r) => [r.workflowId, r.error]),
      [
        ['sync-orders.compensated', undefined],
        ['sync-orders.succeeded', undefined],
        ['fresh', undefined],
      ],
    );
  });
});
