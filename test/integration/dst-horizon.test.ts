import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createWatchdogActivities } from '../../src/activities/watchdog.js';
import { ADDITION_PERIOD_MS, isAdditionInterval } from '../../src/tasks/dst-additions.js';
import { DST_HORIZON_MS, DST_REFRESH_MS } from '../../src/tasks/dst-corrections.js';
import { toScheduleOptions } from '../../src/tasks/schedule.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { testClient, testStore, uniqueId } from '../helpers/temporal.js';

const YEAR = 365 * 86_400_000;

/**
 * The horizon of a task's DST corrections is renewed by the watchdog before it runs out: a schedule whose
 * corrections were computed two years ago (one year left) gets three years from now, covering the changes it did
 * not cover before, and the renewal is not mistaken for a change behind surecron's back.
 */
describe('DST corrections: the watchdog keeps the horizon fresh', () => {
  it('renews a horizon with less than two years left, and covers the later transitions', async () => {
    const client = await testClient();
    const taskQueue = uniqueId('dst-horizon');
    const store = testStore(client, taskQueue);
    const id = uniqueId('dst-horizon');
    const spec = taskSpecSchema.parse({
      id,
      schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
      handler: { type: 'function', name: 'heartbeat' },
      paused: true,
    });
    const now = Date.now();
    /** The instants of the schedule's DST additions (interval specs of the addition period). */
    const additionsOf = async (): Promise<string[]> => {
      const { spec: described } = await client.schedule.getHandle(id).describe();
      return (described.intervals ?? [])
        .filter((interval) => isAdditionInterval(Number(interval.every)))
        .map((interval) => new Date(Number(interval.offset) + ADDITION_PERIOD_MS).toISOString())
        .sort();
    };
    try {
      await client.schedule.create(toScheduleOptions(spec, { taskQueue, source: 'api', now: now - 2 * YEAR }));
      const before = await store.get(id);
      assert.ok(before.dstHorizonEnd !== undefined && before.dstHorizonEnd - now < DST_REFRESH_MS);
      const old = await additionsOf();
      // Berlin, `30 2 * * *`: each spring the gap's 02:30 shifts to 03:00 CEST (01:00Z); each autumn the server's
      // walk would miss the first 02:30 (00:30Z). Before: the changes of [now - 2 y, now + 1 y).
      assert.equal(old.length, 6);
      assert.ok(old.every((at) => Date.parse(at) < before.dstHorizonEnd!));

      const alerts = await createWatchdogActivities({ client, store }).inspectTasks({
        now: new Date(now).toISOString(),
      });
      assert.deepEqual(
        alerts.filter((alert) => alert.alert.taskId === id).map((alert) => alert.alert.event),
        [],
      );

      const after = await store.get(id);
      assert.ok(after.dstHorizonEnd !== undefined);
      assert.ok(Math.abs(after.dstHorizonEnd - (now + DST_HORIZON_MS)) < 60_000, 'three years from the round');
      const renewed = await additionsOf();
      // After: the six changes of [now, now + 3 y), the last ones beyond the old horizon, none before now.
      assert.equal(renewed.length, 6);
      assert.ok(renewed.every((at) => Date.parse(at) > now));
      assert.ok(Date.parse(renewed.at(-1)!) > before.dstHorizonEnd);
      for (const at of renewed) assert.match(at, /^\d{4}-(03-(2[5-9]|3[01])T01:00|10-(2[5-9]|3[01])T00:30):00\.000Z$/);
      assert.deepEqual((await client.schedule.getHandle(id).describe()).action.type, 'startWorkflow');
      assert.deepEqual(after.spec, before.spec);
    } finally {
      await client.schedule.getHandle(id).delete();
      await client.connection.close();
    }
  });
});
