/**
 * `GET /v1/tasks/{id}/explain` against a real dev server: every verdict made to happen for real, with the evidence
 * each rests on. The first case runs a server of its own (it is killed for the catch-up case); `dst_policy` uses
 * the shared one, backfilling the schedule over 2027's DST changes in New York.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { RunTaskInput } from '../../src/contract/run.js';
import { workflowTypes } from '../../src/contract/workflow-types.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { toRunInput } from '../../src/tasks/schedule.js';
import { TaskService } from '../../src/tasks/service.js';
import { startRunTask } from '../../src/tasks/start-run.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { workDir } from '../helpers/dirs.js';
import { KillableServer } from '../helpers/killable-server.js';
import { testRules } from '../helpers/rules.js';
import { runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { quietLogger, testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';
import { newYorkSkipOnce } from '../helpers/dst-cases.js';

const TOKEN = 'explain-admin-token-0123456789';
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
/** The next even second at or after `ms`: the fire times of `*\/2 * * * * *`. */
const evenAtOrAfter = (ms: number): number => Math.ceil(ms / 2000) * 2000;

interface Explained {
  taskId: string;
  at: string;
  nominalTime?: string;
  verdict: string;
  summary: string;
  evidence: Record<string, unknown>;
  neighbours?: { nominalTime: string; verdict: string; evidence: Record<string, unknown> }[];
}

/** The evidence at a dotted path (`run.workflowId`). */
function ev(explained: Explained, path: string): unknown {
  let value: unknown = explained.evidence;
  for (const key of path.split('.')) value = (value as Record<string, unknown> | undefined)?.[key];
  return value;
}
const evNumber = (explained: Explained, path: string): number => Number(ev(explained, path));
const evList = (explained: Explained, path: string): Record<string, unknown>[] =>
  ev(explained, path) as Record<string, unknown>[];

type App = Awaited<ReturnType<typeof buildApp>>;

function makeApp(client: Client, taskQueue: string): Promise<App> {
  return buildApp({
    service: new TaskService(client, testStore(client, taskQueue)),
    rules: testRules(),
    logger: quietLogger,
    apiToken: TOKEN,
    readiness: async () => ({ ready: true, checks: {} }),
  });
}

async function get(app: App, url: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${TOKEN}` } });
}

async function explain(app: App, id: string, at: number | string): Promise<Explained> {
  const instant = typeof at === 'number' ? iso(at) : at;
  const response = await get(app, `/v1/tasks/${id}/explain?at=${encodeURIComponent(instant)}`);
  assert.equal(response.statusCode, 200, response.body);
  return response.json<Explained>();
}

describe('explain: every verdict against a real server', () => {
  it('explains ran, running, pending, not_a_fire_time, paused, skipped_overlap, dropped_by_pause, no_worker, schedule_drift, duplicate, missed and outside_catchup_window', async (t) => {
    const server = await KillableServer.start(workDir('explain'));
    let client = await testClient(server.address);
    const taskQueue = uniqueId('tq-explain');
    const idleQueue = uniqueId('tq-explain-idle');
    const handlers = {
      flaky: async (_: unknown, ctx: { attempt: number }) => {
        if (ctx.attempt === 1) throw new Error('the first attempt fails');
      },
      quick: async () => undefined,
      slow: async (_: unknown, ctx: { signal: AbortSignal }) => sleep(7_000, ctx.signal),
    };
    const ids = {
      ran: uniqueId('x-ran'),
      overlap: uniqueId('x-overlap'),
      paused: uniqueId('x-paused'),
      buffered: uniqueId('x-buffered'),
      changed: uniqueId('x-changed'),
      deleted: uniqueId('x-deleted'),
      idle: uniqueId('x-idle'),
      outage: uniqueId('x-outage'),
    };
    const every2s = { cron: '*/2 * * * * *' };
    const base = { catchupWindow: '10s', retry: { maxAttempts: 3, initialInterval: '1s' } };
    let worker: RunningWorker | undefined;
    let idleWorker: RunningWorker | undefined;
    let app: App | undefined;
    try {
      worker = await runTestWorker({ taskQueue, handlers, address: server.address });
      idleWorker = await runTestWorker({ taskQueue: idleQueue, handlers, address: server.address });
      const service = new TaskService(client, testStore(client, taskQueue));
      const idleService = new TaskService(client, testStore(client, idleQueue));
      const create = (svc: TaskService, spec: TaskSpecInput) =>
        svc.change({
          action: 'create',
          taskId: spec.id,
          actor: 'test',
          source: 'api',
          spec: taskSpecSchema.parse(spec),
        });
      await Promise.all([
        create(service, { ...base, id: ids.ran, schedule: every2s, handler: { type: 'function', name: 'flaky' } }),
        create(service, { ...base, id: ids.overlap, schedule: every2s, handler: { type: 'function', name: 'slow' } }),
        create(service, { ...base, id: ids.paused, schedule: every2s, handler: { type: 'function', name: 'quick' } }),
        create(service, {
          ...base,
          id: ids.buffered,
          schedule: every2s,
          handler: { type: 'function', name: 'slow' },
          overlap: 'buffer_all',
        }),
        create(service, { ...base, id: ids.changed, schedule: every2s, handler: { type: 'function', name: 'quick' } }),
        create(service, { ...base, id: ids.deleted, schedule: every2s, handler: { type: 'function', name: 'quick' } }),
        create(service, { ...base, id: ids.outage, schedule: every2s, handler: { type: 'function', name: 'quick' } }),
        create(idleService, { ...base, id: ids.idle, schedule: every2s, handler: { type: 'function', name: 'quick' } }),
      ]);
      // The idle task's queue loses its only worker: its runs and a watchdog round there wait for one.
      await idleWorker.stop();
      idleWorker = undefined;
      const round = await client.workflow.start(workflowTypes.watchdog, {
        taskQueue: idleQueue,
        workflowId: `surecron-watchdog-${uniqueId('explain')}`,
        args: [],
      });
      app = await makeApp(client, taskQueue);
      const idleApp = await makeApp(client, idleQueue);

      const runsOf = async (id: string): Promise<Run[]> =>
        (await listRuns(client, id, { pageSize: 1000, includeErrors: false })).items.sort(
          (a, b) => Date.parse(a.nominalTime) - Date.parse(b.nominalTime),
        );
      const firstRun = (id: string, status?: Run['status']) =>
        waitFor(
          async () => (await runsOf(id)).find((run) => !status || run.status === status),
          20_000,
          `a run of ${id}`,
        );

      // dropped_by_pause: a 7 s run under buffer_all, the fires behind it buffered, then a pause drops them.
      const bufferedRun = await firstRun(ids.buffered, 'running');
      const bufferedFrom = Date.parse(bufferedRun.nominalTime);
      await sleep(Math.max(0, bufferedFrom + 4_500 - Date.now()));
      const bufferPause = await service.change({
        action: 'pause',
        taskId: ids.buffered,
        actor: 'bob',
        source: 'api',
        note: 'stop the queue',
      });
      assert.ok(Date.parse(bufferPause.appliedAt!) < bufferedFrom + 7_000, 'paused while the first run still went');

      // running, then skipped_overlap behind it.
      const slowRun = await firstRun(ids.overlap, 'running');
      const running = await explain(app, ids.overlap, slowRun.nominalTime);
      assert.equal(running.verdict, 'running', JSON.stringify(running));
      assert.equal(ev(running, 'run.workflowId'), slowRun.workflowId);
      assert.ok(ev(running, 'run.pickedUpBy'), 'a worker took it');

      // paused: by whom, when, with the note.
      const pause = await service.change({
        action: 'pause',
        taskId: ids.paused,
        actor: 'alice',
        source: 'api',
        note: 'ERP maintenance',
      });
      const pausedAt = Date.parse(pause.appliedAt!);

      // schedule_drift: one schedule's spec changed, another deleted, both behind surecron's back.
      await firstRun(ids.changed);
      await firstRun(ids.deleted);
      await client.schedule
        .getHandle(ids.changed)
        .update((previous) => ({ ...previous, spec: { intervals: [{ every: '1h' }] } }));
      const changedAt = (await client.schedule.getHandle(ids.changed).describe()).info.lastUpdatedAt!.getTime();
      const deletedAt = Date.now();
      await client.schedule.getHandle(ids.deleted).delete();

      // ran, duplicate, missed on one task: wait for a few finished runs.
      const ranRuns = await waitFor(
        async () => {
          const done = (await runsOf(ids.ran)).filter((run) => run.status === 'succeeded');
          return done.length >= 4 ? done : undefined;
        },
        30_000,
        'four finished runs',
      );
      const [ran, , dup, gone] = ranRuns.slice(0, 4) as [Run, Run, Run, Run];
      const ranSpec = taskSpecSchema.parse({
        ...base,
        id: ids.ran,
        schedule: every2s,
        handler: { type: 'function', name: 'flaky' },
      });
      const second = await startRunTask(client, {
        taskQueue,
        workflowId: `${ids.ran}-${dup.nominalTime}-again`,
        input: { ...toRunInput(ranSpec), nominalTime: dup.nominalTime, trigger: 'manual' },
      });
      await client.workflow.getHandle(second.workflowId).result();
      const deleting = Date.now();
      await client.workflowService.deleteWorkflowExecution({
        namespace: 'default',
        workflowExecution: { workflowId: gone.workflowId, runId: gone.runId },
      });
      await waitFor(
        async () =>
          (
            await listRuns(client, ids.ran, {
              from: new Date(dup.nominalTime),
              to: new Date(Date.parse(dup.nominalTime) + 1),
            })
          ).items.length === 2 || undefined,
        20_000,
        'both runs of one nominal time visible',
      );

      // ran: the run, its attempts, outcome and lateness.
      const ranAt = Date.parse(ran.nominalTime);
      const explainedRan = await explain(app, ids.ran, ran.nominalTime);
      assert.equal(explainedRan.verdict, 'ran', JSON.stringify(explainedRan));
      assert.equal(explainedRan.nominalTime, ran.nominalTime);
      assert.equal(ev(explainedRan, 'outcome'), 'succeeded');
      assert.equal(ev(explainedRan, 'run.workflowId'), ran.workflowId);
      assert.equal(ev(explainedRan, 'run.attempts'), 2);
      assert.deepEqual(
        evList(explainedRan, 'attempts').map((a) => [a.attempt, a.outcome]),
        [
          [1, 'failed'],
          [2, 'succeeded'],
        ],
      );
      const lateness = evNumber(explainedRan, 'startLatenessMs');
      assert.ok(lateness >= 0 && lateness < 2_000, `started ${lateness} ms late`);

      // not_a_fire_time: an odd second, with its neighbours, the spec version and their own verdicts.
      const between = await explain(app, ids.ran, ranAt + 1_000);
      assert.equal(between.verdict, 'not_a_fire_time', JSON.stringify(between));
      assert.equal(ev(between, 'previous'), ran.nominalTime);
      assert.equal(ev(between, 'next'), iso(ranAt + 2_000));
      assert.equal(ev(between, 'specVersion.version'), 1);
      assert.equal(ev(between, 'specVersion.setBy.action'), 'create');
      assert.equal(ev(between, 'specVersion.schedule.cron'), '*/2 * * * * *');
      // A flaky run (a failure, 1 s of backoff, a success) may outlast the 2 s to the next fire, skipped then.
      const nextRan = ranRuns.some((run) => Date.parse(run.nominalTime) === ranAt + 2_000);
      assert.deepEqual(
        between.neighbours?.map((n) => [n.nominalTime, n.verdict]),
        [
          [ran.nominalTime, 'ran'],
          [iso(ranAt + 2_000), nextRan ? 'ran' : 'skipped_overlap'],
        ],
      );

      // pending: a fire time still to come.
      const future = evenAtOrAfter(Date.now() + 5_000);
      const pending = await explain(app, ids.ran, future);
      assert.equal(pending.verdict, 'pending', JSON.stringify(pending));
      assert.ok(evNumber(pending, 'dueInMs') > 0);

      // duplicate: both runs.
      const duplicate = await explain(app, ids.ran, dup.nominalTime);
      assert.equal(duplicate.verdict, 'duplicate', JSON.stringify(duplicate));
      assert.deepEqual(
        evList(duplicate, 'runs')
          .map((r) => r.workflowId)
          .sort(),
        [dup.workflowId, second.workflowId].sort(),
      );

      // skipped_overlap: the run that was still going.
      const skipped = await explain(app, ids.overlap, Date.parse(slowRun.nominalTime) + 2_000);
      assert.equal(skipped.verdict, 'skipped_overlap', JSON.stringify(skipped));
      assert.equal(ev(skipped, 'overlap'), 'skip');
      assert.equal(ev(skipped, 'stillGoing.workflowId'), slowRun.workflowId);

      // paused: the audit entry.
      const paused = await explain(app, ids.paused, evenAtOrAfter(pausedAt + 1));
      assert.equal(paused.verdict, 'paused', JSON.stringify(paused));
      assert.deepEqual(
        { by: ev(paused, 'pause.by'), at: ev(paused, 'pause.at'), note: ev(paused, 'pause.note') },
        { by: 'alice', at: pause.appliedAt, note: 'ERP maintenance' },
      );

      // dropped_by_pause: the run it was buffered behind, and the pause.
      const dropped = await explain(app, ids.buffered, bufferedFrom + 2_000);
      assert.equal(dropped.verdict, 'dropped_by_pause', JSON.stringify(dropped));
      assert.equal(ev(dropped, 'overlap'), 'buffer_all');
      assert.equal(ev(dropped, 'bufferedBehind.workflowId'), bufferedRun.workflowId);
      assert.deepEqual(ev(dropped, 'pause'), { by: 'bob', at: bufferPause.appliedAt, note: 'stop the queue' });
      const bufferedRuns = await runsOf(ids.buffered);
      assert.ok(!bufferedRuns.some((run) => Date.parse(run.nominalTime) === bufferedFrom + 2_000), 'it never ran');

      // schedule_drift: changed, and deleted.
      const changed = await explain(app, ids.changed, evenAtOrAfter(changedAt + 1));
      assert.equal(changed.verdict, 'schedule_drift', JSON.stringify(changed));
      assert.equal(ev(changed, 'reason'), 'changed');
      assert.equal(ev(changed, 'changedAt'), new Date(changedAt).toISOString());
      const deleted = await explain(app, ids.deleted, evenAtOrAfter(deletedAt + 2_000));
      assert.equal(deleted.verdict, 'schedule_drift', JSON.stringify(deleted));
      assert.equal(ev(deleted, 'reason'), 'deleted');
      assert.ok(Date.parse(String(ev(deleted, 'lastRunBefore.startedAt'))) <= deletedAt + 1_000);

      // no_worker: the idle task's first run waits, and so does the watchdog's round on that queue.
      // The first run still waiting: a fire that came before the worker had stopped may have run.
      const idleRun = await firstRun(ids.idle, 'running');
      await sleep(Math.max(0, Date.parse(idleRun.startedAt) + 16_000 - Date.now()));
      const noWorker = await explain(idleApp, ids.idle, idleRun.nominalTime);
      assert.equal(noWorker.verdict, 'no_worker', JSON.stringify(noWorker));
      assert.equal(ev(noWorker, 'run.workflowId'), idleRun.workflowId);
      assert.equal(ev(noWorker, 'run.pickedUpAt'), undefined);
      assert.equal(ev(noWorker, 'watchdog.roundInForce'), round.workflowId);
      assert.equal(ev(noWorker, 'watchdog.roundWaitingForWorker'), true);
      const heldBack = await explain(idleApp, ids.idle, Date.parse(idleRun.nominalTime) + 4_000);
      assert.equal(heldBack.verdict, 'no_worker', JSON.stringify(heldBack));
      assert.equal(ev(heldBack, 'run.workflowId'), idleRun.workflowId);
      await client.schedule.getHandle(ids.idle).delete();
      for (const run of await runsOf(ids.idle)) {
        if (run.status === 'running') await client.workflow.getHandle(run.workflowId).terminate('test over');
      }
      await round.terminate('test over');
      await idleApp.close();

      // missed (its run deleted a while ago: visibility lets it go after about 20 s).
      await waitFor(
        async () =>
          (
            await listRuns(client, ids.ran, {
              from: new Date(gone.nominalTime),
              to: new Date(Date.parse(gone.nominalTime) + 1),
            })
          ).items.length === 0 || undefined,
        45_000,
        'the deleted run gone from visibility',
      );
      t.diagnostic(`the deleted run left visibility in ${Date.now() - deleting} ms`);
      const missed = await explain(app, ids.ran, gone.nominalTime);
      assert.equal(missed.verdict, 'missed', JSON.stringify(missed));
      assert.equal(ev(missed, 'paused'), false);
      assert.equal(ev(missed, 'runGoing'), null);
      assert.equal(ev(missed, 'schedule.exists'), true);

      // Bad input: problem+json.
      for (const query of ['?at=yesterday', '', '?at=2026-13-01T00:00:00Z']) {
        const bad = await get(app, `/v1/tasks/${ids.ran}/explain${query}`);
        assert.equal(bad.statusCode, 400, bad.body);
        assert.match(String(bad.headers['content-type']), /^application\/problem\+json/);
      }
      const unknown = await get(app, `/v1/tasks/${uniqueId('nope')}/explain?at=2026-01-01T00:00:00Z`);
      assert.equal(unknown.statusCode, 404, unknown.body);
      assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/);

      // outside_catchup_window: the server down for twice the 10 s catch-up window.
      // Only the outage task keeps firing, and nothing else runs when the worker stops.
      await Promise.all(
        [ids.ran, ids.overlap, ids.paused, ids.buffered, ids.changed].map((taskId) =>
          service.change({ action: 'delete', taskId, actor: 'test', source: 'api' }),
        ),
      );
      for (const id of [ids.ran, ids.overlap, ids.buffered]) {
        for (const run of await runsOf(id)) {
          if (run.status === 'running') await client.workflow.getHandle(run.workflowId).terminate('test over');
        }
      }
      await app.close();
      app = undefined;
      // Stop the worker and kill the server between two fires, 300 ms after one (its quick run has ended).
      await sleep((2_300 - (Date.now() % 2_000)) % 2_000);
      await worker.stop();
      worker = undefined;
      await client.connection.close();
      const killedAt = Date.now();
      server.kill();
      await sleep(20_000);
      const restartFrom = Date.now();
      await server.restart();
      client = await testClient(server.address);
      worker = await runTestWorker({ taskQueue, handlers, address: server.address });
      app = await makeApp(client, taskQueue);
      const lost = evenAtOrAfter(killedAt + 1);
      await waitFor(
        async () =>
          (await runsOf(ids.outage)).some((run) => Date.parse(run.startedAt) >= restartFrom) ? true : undefined,
        20_000,
        'a run after the restart',
      );
      const outage = await explain(app, ids.outage, lost);
      t.diagnostic(JSON.stringify({ killedAt: iso(killedAt), restartFrom: iso(restartFrom), outage }));
      assert.equal(outage.verdict, 'outside_catchup_window', JSON.stringify(outage));
      assert.ok(Date.parse(String(ev(outage, 'outage.from'))) <= killedAt, 'the outage began at or before the kill');
      assert.ok(Date.parse(String(ev(outage, 'outage.from'))) > killedAt - 3_000, 'and not long before');
      assert.ok(Date.parse(String(ev(outage, 'outage.to'))) >= restartFrom, 'it ended once the server was back');
      assert.equal(ev(outage, 'catchupWindowMs'), 10_000);
      assert.ok(evNumber(outage, 'ageAtResumeMs') > 10_000);
      const after = ev(outage, 'firstStartAfter') as { scheduledAt: string; startedAt: string };
      assert.ok(
        Date.parse(after.startedAt) - Date.parse(after.scheduledAt) > 2_000,
        'the first start after was a catch-up',
      );
      await client.schedule.getHandle(ids.outage).delete();
    } finally {
      await app?.close();
      await worker?.stop();
      await idleWorker?.stop();
      await client.connection.close().catch(() => undefined);
      await server.stop();
    }
  });
});

describe('explain: dst_policy against a real server', () => {
  it("explains a gap a skip policy dropped and a repeat's second copy the server fired and runTask ended", async () => {
    const client = await testClient();
    const taskQueue = uniqueId('tq-explain-dst');
    const id = uniqueId('x-dst');
    const seen: string[] = [];
    const worker = await runTestWorker({
      taskQueue,
      handlers: { record: async (_: unknown, ctx: { nominalTime: string }) => void seen.push(ctx.nominalTime) },
    });
    const app = await makeApp(client, taskQueue);
    try {
      // New York, 01:30 and 02:30 under skip/once. 2027-03-14 02:30 does not exist (02:00 EST → 03:00 EDT at 07:00Z):
      // dropped, and the server's own walk never fires it. 2027-11-07 01:30 exists twice (05:30Z EDT, 06:30Z EST):
      // the server fires both, the second is in the run input's DST skips. Paused: only the backfills run.
      await new TaskService(client, testStore(client, taskQueue)).change({
        action: 'create',
        taskId: id,
        actor: 'test',
        source: 'api',
        spec: taskSpecSchema.parse({
          id,
          schedule: { ...newYorkSkipOnce, cron: [...newYorkSkipOnce.cron] },
          handler: { type: 'function', name: 'record' },
          paused: true,
        }),
      });
      const handle = client.schedule.getHandle(id);
      const { action } = await handle.describe();
      assert.equal(action.type, 'startWorkflow');
      const input = (action.type === 'startWorkflow' ? action.args?.[0] : undefined) as RunTaskInput;
      assert.deepEqual(input.dstSkips?.[0], ['2027-11-07T06:30:00.000Z', '2027-11-07T06:30:00.000Z']);
      // The server's walk over both days, run for real by the server's own backfill (trigger `schedule`).
      await handle.backfill([
        { start: new Date('2027-03-14T05:00:00Z'), end: new Date('2027-03-14T08:00:00Z'), overlap: 'ALLOW_ALL' },
        { start: new Date('2027-11-07T05:00:00Z'), end: new Date('2027-11-07T08:00:00Z'), overlap: 'ALLOW_ALL' },
      ]);
      const runs = await waitFor(
        async () => {
          const { items } = await listRuns(client, id, { pageSize: 100, includeErrors: false });
          return items.length === 4 && items.every((run) => run.status !== 'running') ? items : undefined;
        },
        30_000,
        'the four backfilled runs closed',
      );
      assert.deepEqual(
        runs.map((run) => [run.nominalTime, run.status, run.attempts, run.trigger]).sort(),
        [
          ['2027-03-14T06:30:00Z', 'succeeded', 1, 'schedule'],
          ['2027-11-07T05:30:00Z', 'succeeded', 1, 'schedule'],
          ['2027-11-07T06:30:00Z', 'dst_skipped', 0, 'schedule'],
          ['2027-11-07T07:30:00Z', 'succeeded', 1, 'schedule'],
        ],
        'no run in the gap; the second 01:30 ran and ended as a DST skip',
      );
      assert.deepEqual(seen.sort(), ['2027-03-14T06:30:00Z', '2027-11-07T05:30:00Z', '2027-11-07T07:30:00Z']);
      const skipId = `${id}-2027-11-07T06:30:00Z`;
      assert.deepEqual(await client.workflow.getHandle(skipId).result(), {
        taskId: id,
        nominalTime: '2027-11-07T06:30:00Z',
        idempotencyKey: `${id}@2027-11-07T06:30:00Z`,
        attempt: 0,
        result: null,
        dstSkipped: true,
      });

      // The second copy: the run the server started, ended at once, and the event behind it.
      const second = await explain(app, id, '2027-11-07T06:30:00Z');
      assert.equal(second.verdict, 'dst_policy', JSON.stringify(second));
      assert.match(second.summary, /ended at once without running the handler: the second copy/);
      assert.deepEqual(ev(second, 'event'), {
        wall: '2027-11-07T01:30:00',
        change: 'repeat',
        applied: 'once',
        firedAt: ['2027-11-07T05:30:00Z'],
        at: '2027-11-07T05:30:00Z',
      });
      assert.deepEqual(ev(second, 'policy'), { skipped: 'skip', repeated: 'once' });
      assert.equal(ev(second, 'timezone'), 'America/New_York');
      assert.equal(ev(second, 'run.workflowId'), skipId);
      assert.equal(ev(second, 'run.status'), 'dst_skipped');
      assert.equal(ev(second, 'run.attempts'), 0);
      assert.equal(ev(second, 'specVersion.version'), 1);
      // Its first copy is an ordinary fire, which ran, marked with the same event.
      const first = await explain(app, id, '2027-11-07T05:30:00Z');
      assert.equal(first.verdict, 'ran', JSON.stringify(first));
      assert.equal(ev(first, 'dst.applied'), 'once');
      assert.equal(ev(first, 'run.workflowId'), `${id}-2027-11-07T05:30:00Z`);

      // The gap: no run at all, at its end or at 02:30 read with the offset before it.
      for (const at of ['2027-03-14T07:00:00Z', '2027-03-14T07:30:00Z']) {
        const gap = await explain(app, id, at);
        assert.equal(gap.verdict, 'dst_policy', JSON.stringify(gap));
        assert.match(gap.summary, /^the skipped wall time 2027-03-14T02:30:00 \(America\/New_York\)/);
        assert.deepEqual(ev(gap, 'event'), {
          wall: '2027-03-14T02:30:00',
          change: 'gap',
          applied: 'skip',
          firedAt: [],
          at: '2027-03-14T07:00:00Z',
        });
        assert.equal(ev(gap, 'run'), undefined);
      }
    } finally {
      await app.close();
      await client.schedule.getHandle(id).delete();
      await worker.stop();
      await client.connection.close();
    }
  });
});
