import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common';
import { groupWorkflowId, PERMIT_GRANTED_SIGNAL } from '../../src/contract/group.js';
import { explainTask } from '../../src/runs/explain.js';
import { listGroups, type GroupView } from '../../src/runs/groups.js';
import { taskLedger } from '../../src/runs/ledger.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema, type TaskSpec, type TaskSpecInput } from '../../src/tasks/spec.js';
import { listenLocal, type LocalServer } from '../helpers/http.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { testApp } from '../helpers/app.js';
import { testRules } from '../helpers/rules.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';

/** A downstream that holds each request `holdMs` and counts how many it is serving at once. */
async function downstream(holdMs: number) {
  const state = { inFlight: 0, maxInFlight: 0, keys: [] as string[], starts: [] as number[] };
  const server = createServer((req, res) => {
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    state.keys.push(String(req.headers['idempotency-key']));
    state.starts.push(Date.now());
    req.resume();
    setTimeout(() => {
      state.inFlight -= 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }, holdMs);
  });
  const local: LocalServer = await listenLocal(server);
  return { ...local, state };
}

const groupTask = (id: string, url: string, extra: Partial<TaskSpecInput>): TaskSpec =>
  taskSpecSchema.parse({
    id,
    schedule: { cron: '* * * * * *' },
    handler: { type: 'http', method: 'POST', url, timeout: '10s' },
    // Every fire starts its run at once; the runs wait for their permits in the group, not in the scheduler.
    overlap: 'allow_all',
    ...extra,
  });

/**
 * When a group granted each permit, by its own clock (the start of the workflow task that granted it), from its
 * history: a request answered `granted` at once, or a `permitGranted` signal sent later.
 */
async function grantTimes(client: Client, workflowId: string): Promise<number[]> {
  const { events } = await client.workflow.getHandle(workflowId).fetchHistory();
  const { payloadConverter } = client.options.loadedDataConverter;
  const times: number[] = [];
  let taskStartedAt = 0;
  for (const event of events ?? []) {
    if (event.workflowTaskStartedEventAttributes) taskStartedAt = tsToMs(event.eventTime);
    const [answer] = event.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads ?? [];
    if (answer && payloadConverter.fromPayload<{ granted: boolean }>(answer).granted) times.push(taskStartedAt);
    if (event.signalExternalWorkflowExecutionInitiatedEventAttributes?.signalName === PERMIT_GRANTED_SIGNAL)
      times.push(taskStartedAt);
  }
  return times;
}

const counts = (values: readonly string[]) => {
  const byValue = new Map<string, number>();
  for (const value of values) byValue.set(value, (byValue.get(value) ?? 0) + 1);
  return byValue;
};

describe('task groups against a real server', () => {
  let client: Client;
  let worker: RunningWorker;
  let service: TaskService;
  const taskQueue = uniqueId('tq-groups');
  const created: string[] = [];
  before(async () => {
    client = await testClient();
    worker = await runTestWorker({ taskQueue });
    service = new TaskService(client, testStore(client, taskQueue));
  });
  after(async () => {
    await deleteSchedules(client, created);
    await worker.stop();
    await client.connection.close();
  });

  /** Creates `ids` firing every second, lets them fire for `fireMs`, pauses them and waits until every run closed. */
  async function fireFor(
    ids: string[],
    spec: (id: string) => TaskSpec,
    fireMs: number,
    watch?: () => void,
    onBacklog?: (running: (Run & { taskId: string })[]) => Promise<void>,
  ) {
    const from = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
    created.push(...ids);
    await Promise.all(
      ids.map((id) => service.change({ action: 'create', taskId: id, actor: 'test', source: 'api', spec: spec(id) })),
    );
    const until = Date.now() + fireMs;
    while (Date.now() < until) {
      watch?.();
      await sleep(250);
    }
    // The ledger's window ends before the pauses: a fire due a moment before its pause, not yet started by the
    // scheduler, is the pause's to drop (explain: dropped_by_pause), whatever the group does.
    const to = new Date(Date.now() - 2000);
    for (const id of ids) await service.change({ action: 'pause', taskId: id, actor: 'test', source: 'api' });
    const runs = await waitFor(
      async () => {
        const pages = await Promise.all(ids.map((id) => listRuns(client, id, { pageSize: 500 })));
        const all = pages.flatMap((page, i) => page.items.map((run) => ({ ...run, taskId: ids[i] as string })));
        const going = all.filter((run) => run.status === 'running');
        if (onBacklog && going.length) {
          await onBacklog(going);
          onBacklog = undefined;
        }
        return all.length > 0 && all.every((run) => run.status !== 'running') ? all : undefined;
      },
      // A hand-over takes a few workflow tasks: on a server busy with other test files, a few seconds each.
      240_000,
      'every run of the group to close',
    ).catch(async (error: Error) => {
      // What the groups held when the wait gave up.
      const groups = await listGroups(client, taskQueue).catch((e: Error) => e.message);
      throw new Error(`${error.message}; groups: ${JSON.stringify(groups).slice(0, 3000)}`);
    });
    return { from, to, runs };
  }

  it(
    '20 tasks × every second in one group of limit 3: never more than 3 at once, every fire runs once',
    { timeout: 360_000 },
    async (t) => {
      const server = await downstream(400);
      const group = uniqueId('grp');
      const ids = Array.from({ length: 20 }, (_, i) => uniqueId(`grp-${i}`));
      const seen: GroupView[] = [];
      let waitingNow: Awaited<ReturnType<typeof explainTask>> | undefined;
      let listing: Promise<void> | undefined;
      try {
        const { from, to, runs } = await fireFor(
          ids,
          (id) => groupTask(id, server.origin, { concurrency: { group, limit: 3 } }),
          4000,
          () => {
            listing ??= listGroups(client, taskQueue)
              .then((groups) => void seen.push(...groups.filter((each) => each.group === group)))
              .finally(() => (listing = undefined));
          },
          async (going) => {
            // The newest fires wait the longest: one of them is still queued in the group.
            const newest = [...going].sort(
              (a, b) => Date.parse(b.nominalTime) - Date.parse(a.nominalTime),
            )[0] as Run & {
              taskId: string;
            };
            waitingNow = await explainTask(client, service.store, newest.taskId, new Date(newest.nominalTime));
          },
        );
        await listing;
        const starts = [...server.state.starts].sort((a, b) => a - b);
        const drainS = ((starts.at(-1) as number) - to.getTime()) / 1000;
        t.diagnostic(
          JSON.stringify({
            runs: runs.length,
            maxInFlight: server.state.maxInFlight,
            drainS,
            permitsPerS: runs.length / (((starts.at(-1) as number) - (starts[0] as number)) / 1000),
          }),
        );
        const nominal = (run: Run & { taskId: string }) => `${run.taskId}@${run.nominalTime}`;
        assert.ok(runs.length >= 20 * 3, `${runs.length} runs`);
        assert.deepEqual(runs.filter((run) => run.status !== 'succeeded').map(nominal), [], 'every run succeeded');
        // The downstream's own count: never more than the limit, and the limit was reached.
        assert.equal(server.state.maxInFlight, 3);
        // Each fire ran its handler exactly once, under its own idempotency key.
        const keys = counts(server.state.keys);
        assert.deepEqual(
          [...keys].filter(([, n]) => n > 1),
          [],
        );
        assert.deepEqual([...keys.keys()].sort(), runs.map(nominal).sort());
        // The group as the API shows it: its limit, at most 3 running, and fires waiting under load.
        assert.ok(seen.length > 0, 'the group was listed');
        assert.ok(
          seen.every((view) => view.kind === 'concurrency' && view.limit === 3 && view.running <= 3),
          JSON.stringify(seen.slice(0, 3)),
        );
        assert.ok(
          seen.some((view) => view.waiting > 0),
          'fires waited',
        );
        // Waiting fires were late, never missed: the ledger has every fire, each run once.
        for (const id of ids) {
          const { summary, items } = await taskLedger(client, id, from, to);
          const missed = items.filter((item) => item.outcome === 'missed');
          const why = await Promise.all(
            missed.map((item) => explainTask(client, service.store, id, new Date(item.nominalTime))),
          );
          assert.equal(summary.missed, 0, `${id}: ${JSON.stringify(why)}`);
          assert.equal(summary.duplicates, 0, id);
          assert.equal(summary.succeeded, summary.expected, id);
        }
        // explain names the group that held a fire and for how long.
        const waited = await Promise.all(
          runs.slice(0, 40).map(async (run) => {
            const explained = await explainTask(client, service.store, run.taskId, new Date(run.nominalTime));
            return { run, explained };
          }),
        );
        const held = waited.find(({ explained }) =>
          ((explained.evidence.groups ?? []) as { waitedMs: number }[]).some((hold) => hold.waitedMs > 200),
        );
        assert.ok(held, 'some fire waited for its permit');
        assert.equal(held.explained.verdict, 'ran');
        assert.match(held.explained.summary, new RegExp(`waiting for concurrency group ${group}`));
        const [hold] = held.explained.evidence.groups as { group: string; kind: string; grantedAt: string }[];
        assert.equal(hold?.group, group);
        assert.equal(hold?.kind, 'concurrency');
        assert.ok(hold?.grantedAt);
        // A fire still queued when asked about: running (late, never missed), and the group that holds it.
        assert.equal(waitingNow?.verdict, 'running', JSON.stringify(waitingNow));
        assert.match(
          waitingNow.summary,
          new RegExp(`waiting for a permit of concurrency group ${group}.*late, not missed`),
        );
        assert.deepEqual(
          (waitingNow.evidence.groups as { group: string; grantedAt?: string }[]).map((hold) => [
            hold.group,
            hold.grantedAt,
          ]),
          [[group, undefined]],
        );
        // Released: nothing holds or waits once every run ended.
        const [idle] = (await listGroups(client, taskQueue)).filter((each) => each.group === group);
        assert.equal(idle?.running, 0);
        assert.equal(idle?.waiting, 0);
        assert.equal(idle?.granted, runs.length);
      } finally {
        await server.close();
      }
    },
  );

  it(
    'a rate group of 2 per second spreads 4 tasks firing every second to that rate',
    { timeout: 300_000 },
    async () => {
      const server = await downstream(10);
      const group = uniqueId('rate');
      const ids = Array.from({ length: 4 }, (_, i) => uniqueId(`rate-${i}`));
      try {
        const { runs } = await fireFor(
          ids,
          (id) => groupTask(id, server.origin, { rateLimit: { group, perSecond: 2 } }),
          5000,
        );
        assert.deepEqual(
          runs.filter((run) => run.status !== 'succeeded'),
          [],
        );
        const starts = [...server.state.starts].sort((a, b) => a - b);
        assert.equal(starts.length, runs.length);
        // The group granted one permit per 500 ms by its own clock (what is due within 100 ms goes together), however
        // late a loaded server then delivered each.
        const grants = await grantTimes(client, groupWorkflowId('rate', group));
        assert.equal(grants.length, runs.length);
        const gaps = grants.slice(1).map((at, i) => at - (grants[i] as number));
        assert.ok(Math.min(...gaps) >= 400, `grant gaps ${gaps.join(',')}`);
        // And the downstream saw them at that rate overall.
        const span = (starts.at(-1) as number) - (starts[0] as number);
        assert.ok(span >= (starts.length - 1) * 450, `${starts.length} starts in ${span} ms`);
        assert.deepEqual(
          [...counts(server.state.keys)].filter(([, n]) => n > 1),
          [],
        );
      } finally {
        await server.close();
      }
    },
  );

  it('the API: GET /v1/groups lists them; bad values are 400 problem+json naming the field', async () => {
    const app = await testApp(service, 'groups-admin-token', testRules('127.0.0.1,localhost'));
    const authorization = 'Bearer groups-admin-token';
    try {
      const listed = await app.inject({ method: 'GET', url: '/v1/groups', headers: { authorization } });
      assert.equal(listed.statusCode, 200, listed.body);
      const { items } = listed.json<{ items: GroupView[] }>();
      const concurrency = items.find((each) => each.kind === 'concurrency');
      assert.equal(concurrency?.limit, 3);
      assert.ok((concurrency?.running ?? 4) <= 3);
      assert.ok((concurrency?.granted ?? 0) >= 60);
      assert.equal(items.find((each) => each.kind === 'rate')?.perSecond, 2);

      // The OpenAPI document carries the route and the new fields.
      const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
        paths: Record<string, Record<string, { responses?: Record<string, unknown>; requestBody?: unknown }>>;
      }>();
      assert.ok(openapi.paths['/v1/groups']?.get?.responses?.['200'], 'GET /v1/groups is documented');
      const jobBody = JSON.stringify(openapi.paths['/v1/jobs']?.post?.requestBody);
      assert.match(jobBody, /"concurrency"/);
      assert.match(jobBody, /"rateLimit"/);
      assert.match(JSON.stringify(openapi.paths['/v1/tasks']?.post?.requestBody), /"perMinute"/);

      const badTask = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { authorization },
        payload: {
          id: uniqueId('grp-bad'),
          schedule: { cron: '* * * * *' },
          handler: { type: 'function', name: 'heartbeat' },
          concurrency: { group: 'erp', limit: 0 },
        },
      });
      assert.equal(badTask.statusCode, 400, badTask.body);
      assert.match(String(badTask.headers['content-type']), /^application\/problem\+json/);
      const taskErrors = badTask.json<{ errors: { path: string }[] }>().errors.map((e) => e.path);
      assert.ok(
        taskErrors.some((path) => path.endsWith('concurrency.limit')),
        taskErrors.join(', '),
      );

      const badJob = await app.inject({
        method: 'POST',
        url: '/v1/jobs',
        headers: { authorization },
        payload: {
          handler: { type: 'function', name: 'heartbeat' },
          idempotencyKey: uniqueId('job'),
          rateLimit: { group: 'erp', perSecond: 1, perMinute: 5 },
        },
      });
      assert.equal(badJob.statusCode, 400, badJob.body);
      assert.match(String(badJob.headers['content-type']), /^application\/problem\+json/);
      assert.match(badJob.json<{ detail: string }>().detail, /rateLimit.*exactly one of perSecond and perMinute/);
    } finally {
      await app.close();
    }
  });
});
