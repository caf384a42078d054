import { countBy } from '../helpers/count.js';
import { workDir } from '../helpers/dirs.js';
import { KillableServer } from '../helpers/killable-server.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { previewSchedule } from '../../src/tasks/preview.js';
import { taskSpecSchema, type TaskSpec } from '../../src/tasks/spec.js';
import { testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';

/** Records every nominal time a handler ran for, with its attempt. */
function recorder() {
  const seen: string[] = [];
  return {
    seen,
    handlers: { record: async (_: unknown, ctx: { nominalTime: string }) => void seen.push(ctx.nominalTime) },
  };
}

/** A task firing every 2 s into the recorder's handler, every fire run (buffer_all) within `catchupWindow`. */
function everyTwoSeconds(id: string, catchupWindow: string): TaskSpec {
  return taskSpecSchema.parse({
    id,
    schedule: { cron: '*/2 * * * * *' },
    handler: { type: 'function', name: 'record' },
    overlap: 'buffer_all',
    catchupWindow,
  });
}

describe('catch-up after outages', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  it('worker down across several fires: every fire runs exactly once when it is back (buffer_all)', async () => {
    const taskQueue = uniqueId('tq');
    const id = uniqueId('catchup-worker');
    const { seen, handlers } = recorder();
    const spec = everyTwoSeconds(id, '1m');
    await testStore(client, taskQueue).create(spec, 'api');
    try {
      // Fires after the server took the schedule as created are due (not after this process's clock said so).
      const created = (await client.schedule.getHandle(id).describe()).info.createdAt;
      // No worker for 7 s: the schedule keeps firing; the runs wait in the task queue.
      await sleep(7_000);
      const stoppedAt = Date.now();
      const { worker, connection } = await testWorker({ taskQueue, handlers });
      const expected = previewSchedule(spec.schedule, { from: created, count: 100 })
        .map((r) => r.at)
        .filter((at) => Date.parse(at) <= stoppedAt);
      assert.ok(expected.length >= 3, `at least 3 fires while the worker was down (got ${expected.length})`);
      try {
        await worker.runUntil(
          waitFor(
            async () => (expected.every((at) => seen.includes(at)) ? true : undefined),
            30_000,
            `all fires (expected ${expected.join(', ')}; seen ${seen.join(', ')})`,
          ),
        );
      } finally {
        await connection.close();
      }
      const counts = countBy(seen);
      for (const at of expected) assert.equal(counts.get(at), 1, `${at} ran once`);
      assert.equal(seen.length, new Set(seen).size, 'no nominal time ran twice');
      const { info } = await client.schedule.getHandle(id).describe();
      assert.equal(info.numActionsMissedCatchupWindow, 0);
    } finally {
      await client.schedule.getHandle(id).delete();
    }
  });

  it('server killed across several fires: in-window fires run once each, older ones are counted missed', async (t) => {
    const server = await KillableServer.start(workDir('catchup'));
    const own = await testClient(server.address);
    const taskQueue = uniqueId('tq');
    const id = uniqueId('catchup-server');
    const { seen, handlers } = recorder();
    const spec = everyTwoSeconds(id, '10s');
    try {
      const created = new Date();
      await testStore(own, taskQueue).create(spec, 'api');
      let w = await testWorker({ taskQueue, handlers, address: server.address });
      await w.worker.runUntil(waitFor(async () => (seen.length >= 2 ? true : undefined), 15_000, 'first fires'));
      await w.connection.close();
      await own.connection.close();

      server.kill();
      const killedAt = Date.now();
      await sleep(22_000);
      await server.restart();
      const restartedAt = Date.now();
      const again = await testClient(server.address);
      w = await testWorker({ taskQueue, handlers, address: server.address });
      const info = await w.worker.runUntil(async () => {
        await sleep(12_000);
        await again.schedule.getHandle(id).pause('test over');
        const description = await again.schedule.getHandle(id).describe();
        await sleep(2_000);
        return description.info;
      });
      await w.connection.close();

      const fires = previewSchedule(spec.schedule, { from: created, count: 200 }).map((r) => Date.parse(r.at));
      const counts = countBy(seen);
      assert.equal(
        seen.length,
        counts.size,
        `no nominal time ran twice: ${JSON.stringify([...counts].filter(([, n]) => n > 1))}`,
      );
      // Fires during the outage that were more than catchupWindow old at restart were missed, newer ones ran.
      const outage = fires.filter((t) => t > killedAt + 1_000 && t < restartedAt - 1_000);
      const missed = outage.filter((t) => !counts.has(new Date(t).toISOString().replace('.000Z', 'Z')));
      const caughtUp = outage.filter((t) => counts.has(new Date(t).toISOString().replace('.000Z', 'Z')));
      t.diagnostic(
        `outage ${((restartedAt - killedAt) / 1000).toFixed(1)} s: ${outage.length} fires, ${caughtUp.length} caught up, ${missed.length} missed (server count ${info.numActionsMissedCatchupWindow})`,
      );
      assert.ok(missed.length >= 4, `older outage fires missed (${missed.length})`);
      assert.ok(caughtUp.length >= 3, `fires within the 10 s window caught up (${caughtUp.length})`);
      // The scheduler judges the window when it first runs after the restart, a moment after the server answers:
      // allow it 3 s.
      for (const t of missed)
        assert.ok(restartedAt - t > 7_000, `${new Date(t).toISOString()} missed only if older than the window`);
      assert.ok(
        info.numActionsMissedCatchupWindow >= missed.length - 1,
        `server counts ${info.numActionsMissedCatchupWindow} missed`,
      );
      await again.schedule.getHandle(id).delete();
      await again.connection.close();
    } finally {
      await server.stop();
    }
  });
});
