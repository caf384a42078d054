import { workDir } from '../helpers/dirs.js';
import { KillableServer } from '../helpers/killable-server.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createWatchdogActivities, WATCHDOG_INTERVAL_MS } from '../../src/activities/watchdog.js';
import { createTaskMetrics } from '../../src/metrics/task-metrics.js';
import { taskLedger, type LedgerSummary } from '../../src/runs/ledger.js';
import { listRuns } from '../../src/runs/runs.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { runTestWorker } from '../helpers/teardown.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';
import { newYorkSkipOnce } from '../helpers/dst-cases.js';

const zero: LedgerSummary = {
  expected: 0,
  succeeded: 0,
  failed: 0,
  running: 0,
  skipped: 0,
  missed: 0,
  duplicates: 0,
  dstSkipped: 0,
};
/** Sleeps until the next instant whose milliseconds are 500, so changes never race a fire on a whole second. */
const toHalfSecond = (): Promise<void> => sleep((1500 - (Date.now() % 1000)) % 1000 || 1000);
/** When a change took effect on the server (its audit entry's time): the boundary the ledger draws. */
const effective = ({ appliedAt }: { appliedAt?: string }): number => {
  assert.ok(appliedAt, 'a change reports when it took effect');
  return Date.parse(appliedAt);
};

/**
 * The ledger is the proof that nothing was missed or doubled, so it must agree exactly with an independent sink
 * (what the handler saw) over a window that holds a forced overlap skip, a pause, a spec change and a forced
 * catch-up miss (the server killed for longer than the catch-up window).
 */
describe('ledger exactness', () => {
  it('matches an independent sink across an overlap skip, a pause, a spec change and a catch-up miss', async (t) => {
    const server = await KillableServer.start(workDir('ledger'));
    let client = await testClient(server.address);
    const taskQueue = uniqueId('tq');
    const id = uniqueId('ledger');
    const sink: string[] = [];
    let slow = false;
    const handlers = {
      record: async (_: unknown, ctx: { nominalTime: string }) => {
        sink.push(ctx.nominalTime);
        if (slow) await sleep(5_000);
      },
    };
    const base = { id, handler: { type: 'function', name: 'record' }, catchupWindow: '10s', maxLateness: '1s' };
    const marks = { slowFrom: 0, slowTo: 0, pause: 0, resume: 0, update: 0, kill: 0, restart: 0 };
    try {
      let worker = await runTestWorker({ taskQueue, handlers, address: server.address });
      let service = new TaskService(client, testStore(client, taskQueue));
      await toHalfSecond();
      const from = Date.now();
      await service.change({
        action: 'create',
        taskId: id,
        actor: 'test',
        source: 'api',
        spec: taskSpecSchema.parse({ ...base, schedule: { cron: '*/2 * * * * *' }, overlap: 'skip' }),
      });
      await sleep(4_000);
      // A 5 s run: the two fires during it are skipped (overlap: skip).
      await toHalfSecond();
      slow = true;
      marks.slowFrom = Date.now();
      await sleep(2_000);
      slow = false;
      await sleep(5_000);
      marks.slowTo = Date.now();
      await toHalfSecond();
      marks.pause = effective(await service.change({ action: 'pause', taskId: id, actor: 'test', source: 'api' }));
      await sleep(4_000);
      await toHalfSecond();
      marks.resume = effective(await service.change({ action: 'resume', taskId: id, actor: 'test', source: 'api' }));
      await sleep(3_000);
      await toHalfSecond();
      marks.update = effective(
        await service.change({
          action: 'update',
          taskId: id,
          actor: 'test',
          source: 'api',
          spec: taskSpecSchema.parse({ ...base, schedule: { cron: '*/3 * * * * *' }, overlap: 'buffer_all' }),
        }),
      );
      await sleep(4_000);

      // Kill the server for longer than the catch-up window.
      await worker.stop();
      await client.connection.close();
      marks.kill = Date.now();
      server.kill();
      await sleep(20_000);
      await server.restart();
      marks.restart = Date.now();
      client = await testClient(server.address);
      worker = await runTestWorker({ taskQueue, handlers, address: server.address });
      await sleep(9_000);
      const to = Date.now() - 2_000;
      const ledger = await taskLedger(client, id, new Date(from), new Date(to));
      service = new TaskService(client, testStore(client, taskQueue));
      // The watchdog judges the fires since the last change (the update) on its own, from the spec and the runs.
      const watchdog = createWatchdogActivities({ client, store: service.store });
      const watchdogAlerts = (await watchdog.inspectTasks({ now: new Date(to + 1_000).toISOString() })).filter(
        ({ alert }) => alert.taskId === id,
      );
      const missedByWatchdog = watchdogAlerts
        .filter(({ alert }) => alert.event === 'run_missed')
        .map(({ alert }) => String(alert.details.nominalTime));
      // Rounds 30 s apart, as the watchdog's schedule runs them, back from now to the update: each missed fire is
      // counted once, in the round it became overdue in, although every round alerts on it again.
      const registry = new Registry();
      const rounds = createWatchdogActivities({ client, store: service.store, metrics: createTaskMetrics(registry) });
      for (let now = Date.now(); now > marks.update; now -= WATCHDOG_INTERVAL_MS) {
        await rounds.inspectTasks({ now: new Date(now).toISOString() });
      }
      const counted = (await registry.getSingleMetric('surecron_task_missed_total')?.get())?.values.find(
        (value) => value.labels.task === id,
      )?.value;
      await worker.stop();

      const { items, summary } = ledger;
      t.diagnostic(
        JSON.stringify({
          summary,
          marks: Object.fromEntries(Object.entries(marks).map(([k, v]) => [k, new Date(v).toISOString()])),
        }),
      );
      const seen = new Set(sink);
      assert.equal(seen.size, sink.length, 'the sink saw no nominal time twice');
      for (const item of items) {
        const at = Date.parse(item.nominalTime);
        const even = new Date(at).getUTCSeconds() % 2 === 0;
        const third = new Date(at).getUTCSeconds() % 3 === 0;
        assert.ok(at <= marks.update ? even : third, `${item.nominalTime} follows the spec in force then`);
        if (seen.has(item.nominalTime)) {
          assert.equal(item.outcome, 'succeeded', `${item.nominalTime} ran`);
          assert.equal(item.workflowId, `${id}-${item.nominalTime}`);
          assert.equal(item.attempts, 1);
        } else if (at > marks.pause && at <= marks.resume) {
          assert.equal(item.outcome, 'paused', `${item.nominalTime} fell in the pause`);
        } else if (at > marks.slowFrom && at < marks.slowTo) {
          assert.equal(item.outcome, 'skipped_overlap', `${item.nominalTime} fell during the slow run`);
        } else {
          // The scheduler judges the catch-up window when it first runs after the restart, a moment after the
          // server answers again: allow it 3 s.
          assert.ok(
            at > marks.kill && at < marks.restart - 10_000 + 3_000,
            `${item.nominalTime} missed only if older than the window at restart`,
          );
          assert.equal(item.outcome, 'missed');
        }
      }
      const inWindow = sink.filter((n) => Date.parse(n) >= from && Date.parse(n) < to);
      assert.equal(summary.succeeded, inWindow.length, 'every run the sink saw is in the ledger');
      assert.equal(summary.duplicates, 0);
      assert.equal(summary.running, 0);
      assert.equal(summary.failed, 0);
      assert.ok(summary.skipped >= 2, `skipped ${summary.skipped}`);
      assert.ok(summary.missed >= 2, `missed ${summary.missed}`);
      assert.deepEqual(
        missedByWatchdog.sort(),
        items.filter((item) => item.outcome === 'missed').map((item) => item.nominalTime),
        'the watchdog alerts on exactly the fires the ledger calls missed',
      );
      assert.equal(counted, summary.missed, 'surecron_task_missed_total counts each missed fire once');
      assert.deepEqual(
        watchdogAlerts.filter(({ alert }) => alert.event === 'schedule_drift'),
        [],
        "surecron's own pause, resume and update are no drift",
      );
      assert.ok(items.filter((i) => i.outcome === 'paused').length >= 1);
      assert.equal(summary.expected, items.filter((i) => i.outcome !== 'paused').length);
      assert.ok(
        sink.some((n) => Date.parse(n) > marks.restart - 7_000 && Date.parse(n) < marks.restart),
        'fires within the catch-up window ran after the restart',
      );
      await client.schedule.getHandle(id).delete();
      await client.connection.close();
    } finally {
      await server.stop();
    }
  });
});

/**
 * Fires a DST policy drops are accounted for, never missed: one the server is never asked to make (a gap under
 * `skip`), and one it makes and `runTask` ends at once (a repeat's second copy under `once`), which shows as
 * `dst_skipped` in the runs, the ledger and to the watchdog, not as a handler's success.
 */
describe('ledger and watchdog: fires a DST policy dropped', () => {
  it('lists them as dst_skipped, never missed, on the shared server', async () => {
    const client = await testClient();
    const taskQueue = uniqueId('tq-ledger-dst');
    const id = uniqueId('ledger-dst');
    const sink: string[] = [];
    const worker = await runTestWorker({
      taskQueue,
      handlers: { record: async (_: unknown, ctx: { nominalTime: string }) => void sink.push(ctx.nominalTime) },
    });
    const service = new TaskService(client, testStore(client, taskQueue));
    // New York, 01:30 and 02:30 under skip/once: 2027-03-14 02:30 does not exist; 2027-11-07 01:30 exists twice.
    await service.change({
      action: 'create',
      taskId: id,
      actor: 'test',
      source: 'api',
      spec: taskSpecSchema.parse({
        id,
        schedule: { ...newYorkSkipOnce, cron: [...newYorkSkipOnce.cron] },
        handler: { type: 'function', name: 'record' },
        maxLateness: '1m',
      }),
    });
    const days = [
      { from: new Date('2027-03-14T00:00:00Z'), to: new Date('2027-03-15T00:00:00Z') },
      { from: new Date('2027-11-07T00:00:00Z'), to: new Date('2027-11-08T00:00:00Z') },
    ];
    try {
      // Both days as the server walks them, run by the server's own backfill.
      await client.schedule
        .getHandle(id)
        .backfill(days.map(({ from, to }) => ({ start: from, end: new Date(to.getTime() - 1), overlap: 'ALLOW_ALL' })));
      await waitFor(
        async () => {
          const { items } = await listRuns(client, id, { pageSize: 100, includeErrors: false });
          return items.length === 4 && items.every((run) => run.status !== 'running') ? true : undefined;
        },
        30_000,
        'the four backfilled runs closed',
      );
      const later = new Date('2028-01-01T00:00:00Z');
      const [march, november] = await Promise.all(days.map(({ from, to }) => taskLedger(client, id, from, to, later)));
      assert.deepEqual(
        march?.items.map((item) => [item.nominalTime, item.outcome, item.workflowId]),
        [
          ['2027-03-14T06:30:00Z', 'succeeded', `${id}-2027-03-14T06:30:00Z`],
          ['2027-03-14T07:00:00Z', 'dst_skipped', undefined],
        ],
        'the gap: never sent to the server, listed where it would have been',
      );
      assert.match(march?.items[1]?.dst ?? '', /02:30:00 does not exist in America\/New_York .*skipped/);
      assert.deepEqual(
        november?.items.map((item) => [item.nominalTime, item.outcome, item.workflowId, item.attempts]),
        [
          ['2027-11-07T05:30:00Z', 'succeeded', `${id}-2027-11-07T05:30:00Z`, 1],
          ['2027-11-07T06:30:00Z', 'dst_skipped', `${id}-2027-11-07T06:30:00Z`, 0],
          ['2027-11-07T07:30:00Z', 'succeeded', `${id}-2027-11-07T07:30:00Z`, 1],
        ],
        "the repeat's second copy: fired by the server, ended by runTask",
      );
      assert.deepEqual(march?.summary, { ...zero, expected: 1, succeeded: 1, dstSkipped: 1 });
      assert.deepEqual(november?.summary, { ...zero, expected: 2, succeeded: 2, dstSkipped: 1 });
      assert.deepEqual(sink.sort(), ['2027-03-14T06:30:00Z', '2027-11-07T05:30:00Z', '2027-11-07T07:30:00Z']);

      // The runs API tells a DST skip from a handler's success.
      const skips = await listRuns(client, id, { status: 'dst_skipped', includeErrors: false });
      assert.deepEqual(
        skips.items.map((run) => [run.nominalTime, run.status, run.attempts]),
        [['2027-11-07T06:30:00Z', 'dst_skipped', 0]],
      );
      const successes = await listRuns(client, id, { status: 'succeeded', includeErrors: false });
      assert.deepEqual(successes.items.map((run) => run.nominalTime).sort(), sink);

      // The watchdog, as its rounds would run just after each dropped fire: no miss, nothing counted.
      const registry = new Registry();
      const watchdog = createWatchdogActivities({ client, store: service.store, metrics: createTaskMetrics(registry) });
      for (const now of [
        '2027-03-14T06:32:00Z',
        '2027-03-14T07:02:00Z',
        '2027-11-07T06:32:00Z',
        '2027-11-07T07:32:00Z',
      ]) {
        const alerts = await watchdog.inspectTasks({ now });
        assert.deepEqual(
          alerts.filter(({ alert }) => alert.taskId === id).map(({ alert }) => alert.event),
          [],
          `no alert in the round at ${now}`,
        );
      }
      const counted = (await registry.getSingleMetric('surecron_task_missed_total')?.get())?.values.find(
        (value) => value.labels.task === id,
      )?.value;
      assert.equal(counted ?? 0, 0);
    } finally {
      await client.schedule.getHandle(id).delete();
      await worker.stop();
      await client.connection.close();
    }
  });
});
