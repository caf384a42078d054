import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { HandlerContext } from '../../src/activities/handler.js';
import { listRuns } from '../../src/runs/runs.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';

type Seen = Pick<HandlerContext, 'taskId' | 'nominalTime' | 'idempotencyKey' | 'attempt'> & { at: number };

describe('one task end to end on the real dev server', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  it('a 6-field cron fires on its seconds and the activity sees the nominal time and idempotency key', async () => {
    const taskQueue = uniqueId('tq');
    const id = uniqueId('slice');
    const seen: Seen[] = [];
    const store = testStore(client, taskQueue);
    const spec: TaskSpecInput = {
      id,
      description: 'slice test',
      schedule: { cron: '*/2 * * * * ?' },
      handler: { type: 'function', name: 'record' },
    };
    const { worker, connection } = await testWorker({
      taskQueue,
      handlers: {
        record: async (_input, ctx) => {
          seen.push({
            taskId: ctx.taskId,
            nominalTime: ctx.nominalTime,
            idempotencyKey: ctx.idempotencyKey,
            attempt: ctx.attempt,
            at: Date.now(),
          });
          return Promise.resolve('ok');
        },
      },
    });
    let runs: Awaited<ReturnType<typeof listRuns>>;
    try {
      await store.create(taskSpecSchema.parse(spec), 'api');
      // The worker keeps polling until the runs have closed: the workflow completes in a workflow
      // task after the activity, so stopping at the third activity could strand the third run.
      runs = await worker.runUntil(async () => {
        await waitFor(async () => (seen.length >= 3 ? true : undefined), 20_000, '3 runs');
        return waitFor(
          async () => {
            const page = await listRuns(client, id);
            return page.items.filter((r) => r.status === 'succeeded').length >= 3 ? page : undefined;
          },
          20_000,
          'runs in visibility',
        );
      });
    } finally {
      await client.schedule.getHandle(id).delete();
      await connection.close();
    }
    for (const run of seen.slice(0, 3)) {
      const nominal = new Date(run.nominalTime);
      assert.equal(run.taskId, id);
      assert.match(run.nominalTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(nominal.getUTCSeconds() % 2, 0, `nominal ${run.nominalTime} is on an even second`);
      assert.equal(run.idempotencyKey, `${id}@${run.nominalTime}`);
      assert.equal(run.attempt, 1);
      assert.ok(run.at >= nominal.getTime(), 'never runs before its nominal time');
      assert.ok(run.at - nominal.getTime() < 5_000, `started ${run.at - nominal.getTime()} ms after nominal`);
    }
    const nominals = seen.slice(0, 3).map((s) => Date.parse(s.nominalTime));
    assert.deepEqual([nominals[1]! - nominals[0]!, nominals[2]! - nominals[1]!], [2000, 2000]);
    const run = runs.items.find((r) => r.nominalTime === seen[0]!.nominalTime);
    assert.ok(run, 'the first run is listed');
    assert.equal(run.workflowId, `${id}-${seen[0]!.nominalTime}`);
    assert.equal(run.attempts, 1);
    assert.equal(run.trigger, 'schedule');
  });

  it('a failing handler is retried per its policy: fails twice, succeeds on attempt 3 with backoff gaps', async () => {
    const taskQueue = uniqueId('tq');
    const id = uniqueId('retry');
    const attempts: { attempt: number; at: number }[] = [];
    const store = testStore(client, taskQueue);
    const { worker, connection } = await testWorker({
      taskQueue,
      handlers: {
        flaky: async (_input, ctx) => {
          attempts.push({ attempt: ctx.attempt, at: Date.now() });
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
          return Promise.resolve({ ok: true });
        },
      },
    });
    try {
      await store.create(
        taskSpecSchema.parse({
          id,
          schedule: { cron: '0 0 1 1 *' },
          handler: { type: 'function', name: 'flaky' },
          retry: { maxAttempts: 5, initialInterval: '500ms', backoffCoefficient: 2 },
        }),
        'api',
      );
      await client.schedule.getHandle(id).trigger();
      const run = await worker.runUntil(
        waitFor(
          async () => (await listRuns(client, id)).items.find((r) => r.status === 'succeeded'),
          30_000,
          'the retried run to succeed',
        ),
      );
      assert.equal(run.attempts, 3);
    } finally {
      await client.schedule.getHandle(id).delete();
      await connection.close();
    }
    assert.deepEqual(
      attempts.map((a) => a.attempt),
      [1, 2, 3],
    );
    const gaps = [attempts[1]!.at - attempts[0]!.at, attempts[2]!.at - attempts[1]!.at];
    assert.ok(gaps[0]! >= 450, `first retry waited ${gaps[0]} ms, policy says 500 ms`);
    assert.ok(gaps[1]! >= 950, `second retry waited ${gaps[1]} ms, policy says 1000 ms`);
  });
});
