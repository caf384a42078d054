/**
 * The HTTP contract, walked end to end: one app (buildApp + inject) and one surecron worker running for the whole
 * file on its own task queue, so every write goes through the audited `taskChange` workflow as in production.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { LightMyRequestResponse } from 'fastify';
import type { HandlerContext, HandlerRegistry } from '../../src/activities/handler.js';
import { buildApp } from '../../src/api/app.js';
import { TaskService } from '../../src/tasks/service.js';
import { functionHandlerNames, testRules } from '../helpers/rules.js';
import { taskSpecSchema, type TaskSpec, type TaskSpecInput } from '../../src/tasks/spec.js';
import type { TaskRules } from '../../src/tasks/validate.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { quietLogger, testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';

const ADMIN = 'contract-admin-token-0123456789';
const OPS = 'contract-ops-write-token-4242';
const VIEWER = 'contract-viewer-read-token-77';
const TOKENS = [ADMIN, OPS, VIEWER];
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const NOMINAL = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;
const PROBLEM_BASE = 'https://surecron.dev/problems/';
const TASK_KEYS = ['counts', 'createdAt', 'id', 'nextRuns', 'recentRuns', 'source', 'spec', 'state', 'updatedAt'];

type App = Awaited<ReturnType<typeof buildApp>>;

interface TaskJson {
  id: string;
  spec: TaskSpec;
  source: 'api' | 'code';
  state: { paused: boolean; note: string };
  nextRuns: string[];
  recentRuns: RunJson[];
  counts: { taken: number; missedCatchup: number; skippedOverlap: number };
  createdAt: string;
  updatedAt: string;
}

interface RunJson {
  workflowId: string;
  runId: string;
  nominalTime: string;
  startedAt: string;
  closedAt?: string;
  status: string;
  attempts: number;
  error?: string;
  trigger: 'schedule' | 'manual' | 'backfill';
}

interface ProblemJson {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: { path: string; message: string }[];
}

interface AuditJson {
  at: string;
  actor: string;
  action: string;
  taskId: string;
  before?: unknown;
  after?: unknown;
}

const formatInstant = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** A yearly task: never fires by itself during the test. */
function yearly(id: string, name: string, extra: Partial<TaskSpecInput> = {}): TaskSpecInput {
  return { id, schedule: { cron: '0 0 1 1 *' }, handler: { type: 'function', name }, ...extra };
}

describe('HTTP API contract (buildApp + running worker)', () => {
  let client: Client;
  let app: App;
  let worker: RunningWorker;
  const created = new Set<string>();
  const responses: { label: string; body: string }[] = [];

  // Handlers the worker runs; the API's rules accept their names.
  const calls = { ok: 0, flaky: 0, slow: 0 };
  const countedByKey = new Map<string, number>();
  const handlers: HandlerRegistry = {
    ok: async (input: unknown) => {
      calls.ok += 1;
      return Promise.resolve({ ok: true, input: input ?? null });
    },
    flaky: async (_input: unknown, context: HandlerContext) => {
      calls.flaky += 1;
      if (context.attempt === 1) throw new Error('flaky handler: the first attempt always fails');
      return Promise.resolve({ recovered: true, attempt: context.attempt });
    },
    slow: async (_input: unknown, context: HandlerContext) => {
      calls.slow += 1;
      countedByKey.set(context.idempotencyKey, (countedByKey.get(context.idempotencyKey) ?? 0) + 1);
      await sleep(500);
      return { slow: true, key: context.idempotencyKey };
    },
  };
  const rules: TaskRules = {
    ...testRules('127.0.0.1,localhost'),
    functionNames: new Set([...functionHandlerNames, ...Object.keys(handlers)]),
  };

  /** One request; every body is checked for stack traces and leaked tokens. */
  async function call(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    url: string,
    body?: unknown,
    token: string | null = ADMIN,
  ): Promise<LightMyRequestResponse> {
    const response = await app.inject({
      method,
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    responses.push({ label: `${method} ${url} → ${response.statusCode}`, body: response.body });
    assert.doesNotMatch(response.body, /\n\s+at\s|\bat .*\.ts:\d+|\bat .*\(.*:\d+:\d+\)/, `stack in ${method} ${url}`);
    for (const secret of TOKENS) assert.ok(!response.body.includes(secret), `token leaked by ${method} ${url}`);
    return response;
  }

  function expectStatus(response: LightMyRequestResponse, status: number): void {
    assert.equal(response.statusCode, status, `${response.statusCode}: ${response.body}`);
  }

  function expectProblem(response: LightMyRequestResponse, status: number, slug?: string): ProblemJson {
    expectStatus(response, status);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const problem = response.json<ProblemJson>();
    assert.deepEqual(
      Object.keys(problem)
        .filter((key) => key !== 'errors')
        .sort(),
      ['detail', 'status', 'title', 'type'],
    );
    assert.equal(problem.status, status);
    assert.equal(typeof problem.title, 'string');
    assert.equal(typeof problem.detail, 'string');
    if (slug) assert.equal(problem.type, `${PROBLEM_BASE}${slug}`);
    else assert.ok(problem.type.startsWith(PROBLEM_BASE), problem.type);
    return problem;
  }

  function assertTask(view: TaskJson, spec: TaskSpec): void {
    assert.deepEqual(Object.keys(view).sort(), TASK_KEYS);
    assert.equal(view.id, spec.id);
    assert.deepEqual(view.spec, spec);
    assert.equal(view.source, 'api');
    assert.equal(typeof view.state.paused, 'boolean');
    assert.equal(typeof view.state.note, 'string');
    assert.ok(Array.isArray(view.nextRuns));
    for (const next of view.nextRuns) assert.match(next, ISO);
    assert.ok(Array.isArray(view.recentRuns));
    assert.deepEqual(Object.keys(view.counts).sort(), ['missedCatchup', 'skippedOverlap', 'taken']);
    assert.match(view.createdAt, ISO);
    assert.match(view.updatedAt, ISO);
  }

  async function createTask(input: TaskSpecInput, token = ADMIN): Promise<TaskJson> {
    const response = await call('POST', '/v1/tasks', input, token);
    expectStatus(response, 201);
    created.add(input.id);
    const view = response.json<TaskJson>();
    assertTask(view, taskSpecSchema.parse(input));
    return view;
  }

  /** Polls a task's runs until `accept` returns a value. */
  async function runsUntil<T>(
    id: string,
    accept: (runs: RunJson[]) => T | undefined,
    query = '',
    what = `runs of ${id}`,
  ): Promise<T> {
    return waitFor(
      async () => {
        const response = await call('GET', `/v1/tasks/${id}/runs${query}`);
        expectStatus(response, 200);
        return accept(response.json<{ items: RunJson[] }>().items);
      },
      30_000,
      what,
    );
  }

  async function auditOf(id: string, count: number): Promise<AuditJson[]> {
    return waitFor(
      async () => {
        const response = await call('GET', `/v1/audit?taskId=${id}`, undefined, VIEWER);
        expectStatus(response, 200);
        const { items } = response.json<{ items: AuditJson[] }>();
        return items.length >= count ? items : undefined;
      },
      15_000,
      `${count} audit entries of ${id}`,
    );
  }

  before(async () => {
    client = await testClient();
    const taskQueue = uniqueId('tq-contract');
    const store = testStore(client, taskQueue);
    worker = await runTestWorker({ taskQueue, handlers });
    app = await buildApp({
      service: new TaskService(client, store),
      rules,
      logger: quietLogger,
      apiToken: ADMIN,
      namedTokens: `ops:${OPS}:write,viewer:${VIEWER}:read`,
      readiness: async () => Promise.resolve({ ready: true, checks: { temporal: 'ok', worker: 'ok' } }),
    });
  });

  after(async () => {
    await deleteSchedules(client, created);
    await worker.stop();
    await app.close();
    await client.connection.close();
  });

  describe('tasks: create, read, replace', () => {
    const id = uniqueId('ct-a');
    const input = yearly(id, 'ok', { description: 'contract task a', tags: { team: 'contract' } });

    it('POST /v1/tasks is 201 with a Task (source api, ISO nextRuns, zero counts)', async () => {
      const view = await createTask(input);
      assert.deepEqual(view.state, { paused: false, note: 'contract task a (surecron, from api)' });
      assert.equal(view.nextRuns[0], `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`);
      assert.deepEqual(view.counts, { taken: 0, missedCatchup: 0, skippedOverlap: 0 });
      assert.deepEqual(view.recentRuns, []);
    });

    it('POST /v1/tasks with an existing id is a 409 problem', async () => {
      const problem = expectProblem(await call('POST', '/v1/tasks', input), 409, 'already-exists');
      assert.equal(problem.title, 'Already exists');
      assert.match(problem.detail, new RegExp(id));
    });

    it('POST /v1/tasks with an invalid body is a 400 problem with errors', async () => {
      const problem = expectProblem(
        await call('POST', '/v1/tasks', { id: uniqueId('ct-bad'), schedule: { cron: 'nope' }, handler: {} }),
        400,
        'validation',
      );
      assert.ok(problem.errors && problem.errors.length >= 1, JSON.stringify(problem));
    });

    it('POST /v1/tasks whose DST policy needs thousands of corrections is a 400 naming schedule.cron, and creates nothing', async () => {
      const refusedId = uniqueId('ct-dst');
      const body = { ...yearly(refusedId, 'ok'), schedule: { cron: '* * 2 * * *', timezone: 'Europe/Berlin' } };
      const problem = expectProblem(await call('POST', '/v1/tasks', body), 400, 'validation');
      assert.equal(problem.errors?.[0]?.path, 'schedule.cron');
      assert.match(
        problem.errors?.[0]?.message ?? '',
        /more than 1000 extra fires over the next 3 years in Europe\/Berlin/,
      );
      expectProblem(await call('GET', `/v1/tasks/${refusedId}`, undefined, VIEWER), 404, 'not-found');
    });

    it('GET /v1/tasks/{id} is 200 with the same Task', async () => {
      const response = await call('GET', `/v1/tasks/${id}`, undefined, VIEWER);
      expectStatus(response, 200);
      const view = response.json<TaskJson>();
      assertTask(view, taskSpecSchema.parse(input));
      assert.deepEqual(view.state, { paused: false, note: 'contract task a (surecron, from api)' });
    });

    it('GET /v1/tasks lists it in { items }', async () => {
      const items = await waitFor(
        async () => {
          const response = await call('GET', '/v1/tasks');
          expectStatus(response, 200);
          const body = response.json<{ items: TaskJson[]; nextPageToken?: string }>();
          assert.deepEqual(Object.keys(body), ['items']);
          return body.items.some((item) => item.id === id) ? body.items : undefined;
        },
        15_000,
        `${id} listed`,
      );
      assertTask(
        items.find((item) => item.id === id)!,
        taskSpecSchema.parse(input),
      );
    });

    it('GET /v1/tasks/{unknown} is a 404 problem', async () => {
      const problem = expectProblem(await call('GET', '/v1/tasks/ct-does-not-exist'), 404, 'not-found');
      assert.equal(problem.detail, 'task ct-does-not-exist not found');
    });

    it('PUT /v1/tasks/{id} with a different body id is a 400 problem naming body.id', async () => {
      const other = uniqueId('ct-other');
      const problem = expectProblem(await call('PUT', `/v1/tasks/${id}`, yearly(other, 'ok')), 400);
      assert.equal(problem.title, 'Invalid request');
      assert.deepEqual(problem.errors, [{ path: 'body.id', message: 'must equal the path id' }]);
      assert.equal((await call('GET', `/v1/tasks/${other}`)).statusCode, 404, 'nothing was created');
    });

    it('6 concurrent PUTs of one new id: one 201, the rest 200, never a 409; GET shows one writer spec', async () => {
      const putId = uniqueId('ct-put-race');
      const specs = Array.from({ length: 6 }, (_, i) => yearly(putId, 'ok', { description: `writer ${i}` }));
      const responses = await Promise.all(specs.map((spec) => call('PUT', `/v1/tasks/${putId}`, spec)));
      created.add(putId);
      const statuses = responses.map((r) => r.statusCode).sort();
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 201], responses.map((r) => r.body.slice(0, 200)).join('\n'));
      const shown = (await call('GET', `/v1/tasks/${putId}`)).json<TaskJson>().spec.description;
      assert.ok(
        specs.some((spec) => spec.description === shown),
        `GET shows one writer's spec: ${shown}`,
      );
    });

    it('PUT a new id is 201, PUT it again changed is 200, and GET shows the new spec', async () => {
      const putId = uniqueId('ct-put');
      const first = yearly(putId, 'ok', { description: 'first version' });
      const createdResponse = await call('PUT', `/v1/tasks/${putId}`, first);
      expectStatus(createdResponse, 201);
      created.add(putId);
      assertTask(createdResponse.json<TaskJson>(), taskSpecSchema.parse(first));

      const second = yearly(putId, 'ok', {
        description: 'second version',
        schedule: { cron: '30 6 * * MON', timezone: 'Europe/Berlin' },
        retry: { maxAttempts: 5 },
      });
      const updated = await call('PUT', `/v1/tasks/${putId}`, second);
      expectStatus(updated, 200);
      assertTask(updated.json<TaskJson>(), taskSpecSchema.parse(second));

      const read = await call('GET', `/v1/tasks/${putId}`);
      expectStatus(read, 200);
      const view = read.json<TaskJson>();
      assertTask(view, taskSpecSchema.parse(second));
      assert.equal(view.spec.description, 'second version');
      // 06:30 Berlin on a Monday is 04:30 or 05:30 UTC.
      for (const next of view.nextRuns) {
        assert.equal(new Date(next).getUTCDay(), 1, next);
        assert.match(next, /T0[45]:30:00\.000Z$/);
      }

      // The same spec again changes nothing and is still 200.
      expectStatus(await call('PUT', `/v1/tasks/${putId}`, second), 200);
    });

    it('pause with a note is 200 {paused: true, note}; resume is 200 {paused: false}', async () => {
      const paused = await call('POST', `/v1/tasks/${id}/pause`, { note: 'maintenance window' });
      expectStatus(paused, 200);
      const pausedView = paused.json<TaskJson>();
      assertTask(pausedView, taskSpecSchema.parse(input));
      assert.deepEqual(pausedView.state, { paused: true, note: 'maintenance window' });
      assert.deepEqual((await call('GET', `/v1/tasks/${id}`)).json<TaskJson>().state, {
        paused: true,
        note: 'maintenance window',
      });

      const resumed = await call('POST', `/v1/tasks/${id}/resume`, {});
      expectStatus(resumed, 200);
      assert.deepEqual(resumed.json<TaskJson>().state, { paused: false, note: 'resumed by admin' });
      assert.equal((await call('GET', `/v1/tasks/${id}`)).json<TaskJson>().state.paused, false);
    });

    it('pause and resume without a body (no note, no content-type) are 200', async () => {
      const paused = await call('POST', `/v1/tasks/${id}/pause`);
      expectStatus(paused, 200);
      assert.equal(paused.json<TaskJson>().state.paused, true);
      const resumed = await call('POST', `/v1/tasks/${id}/resume`);
      expectStatus(resumed, 200);
      assert.equal(resumed.json<TaskJson>().state.paused, false);
    });

    it('pause of an unknown task is a 404 problem', async () => {
      expectProblem(await call('POST', '/v1/tasks/ct-does-not-exist/pause', { note: 'x' }), 404, 'not-found');
    });
  });

  describe('runs', () => {
    it('trigger is 202 {workflowId, runId}; the run shows in /runs with trigger manual and succeeds', async () => {
      const id = uniqueId('ct-trig');
      await createTask(yearly(id, 'ok', { tags: { probe: id } }));
      const before = calls.ok;
      const response = await call('POST', `/v1/tasks/${id}/trigger`);
      expectStatus(response, 202);
      const started = response.json<{ workflowId: string; runId: string }>();
      assert.deepEqual(Object.keys(started).sort(), ['runId', 'workflowId']);
      assert.ok(started.workflowId.startsWith(`${id}-manual-`), started.workflowId);
      assert.match(started.runId, /^[0-9a-f-]{36}$/);

      const run = await runsUntil(id, (runs) =>
        runs.find((r) => r.workflowId === started.workflowId && r.status === 'succeeded'),
      );
      assert.equal(run.runId, started.runId);
      assert.equal(run.trigger, 'manual');
      assert.equal(run.attempts, 1);
      assert.match(run.nominalTime, NOMINAL);
      assert.match(run.startedAt, ISO);
      assert.match(run.closedAt!, ISO);
      assert.equal(calls.ok, before + 1);

      const manual = await call('GET', `/v1/tasks/${id}/runs?status=succeeded&pageSize=10`, undefined, VIEWER);
      expectStatus(manual, 200);
      assert.deepEqual(manual.json(), { items: [run] });

      // The task list carries each task's recent runs too.
      const listed = await waitFor(
        async () => {
          const page = (await call('GET', `/v1/tasks?tag=probe=${id}`, undefined, VIEWER)).json<{
            items: TaskJson[];
          }>();
          return page.items.length === 1 ? page.items[0] : undefined;
        },
        10_000,
        'the task in the list',
      );
      assert.deepEqual(listed.recentRuns, [run]);

      const detail = await call('GET', `/v1/runs/${started.workflowId}`, undefined, VIEWER);
      expectStatus(detail, 200);
      const body = detail.json<RunJson & { input: { taskId: string }; attemptsDetail: unknown[]; result: unknown }>();
      assert.equal(body.input.taskId, id);
      assert.deepEqual(body.result, { ok: true, input: null });
      assert.equal(body.attemptsDetail.length, 1);
    });

    it('GET /v1/runs/{workflowId} of a flaky run shows both attempts, the input and the result', async () => {
      const id = uniqueId('ct-flaky');
      await createTask(yearly(id, 'flaky', { retry: { maxAttempts: 3, initialInterval: '200ms' } }));
      const triggered = await call('POST', `/v1/tasks/${id}/trigger`);
      expectStatus(triggered, 202);
      const { workflowId, runId } = triggered.json<{ workflowId: string; runId: string }>();
      const run = await runsUntil(id, (runs) =>
        runs.find((r) => r.workflowId === workflowId && r.status !== 'running'),
      );
      assert.equal(run.status, 'succeeded', JSON.stringify(run));
      assert.equal(run.attempts, 2);
      assert.equal(run.trigger, 'manual');

      const response = await call('GET', `/v1/runs/${workflowId}`, undefined, VIEWER);
      expectStatus(response, 200);
      const detail = response.json<
        RunJson & {
          input: { taskId: string; trigger: string; handler: { name: string } };
          attemptsDetail: { attempt: number; at: string; outcome: string; error?: string }[];
          result: unknown;
        }
      >();
      assert.equal(detail.workflowId, workflowId);
      assert.equal(detail.runId, runId);
      assert.equal(detail.status, 'succeeded');
      assert.equal(detail.attempts, 2);
      assert.equal(detail.trigger, 'manual');
      assert.equal(detail.input.taskId, id);
      assert.equal(detail.input.trigger, 'manual');
      assert.equal(detail.input.handler.name, 'flaky');
      assert.deepEqual(detail.result, { recovered: true, attempt: 2 });
      assert.deepEqual(
        detail.attemptsDetail.map(({ attempt, outcome, error }) => ({ attempt, outcome, error })),
        [
          { attempt: 1, outcome: 'failed', error: 'flaky handler: the first attempt always fails' },
          { attempt: 2, outcome: 'succeeded', error: undefined },
        ],
      );
      for (const attempt of detail.attemptsDetail) assert.match(attempt.at, ISO);
      assert.ok(Date.parse(detail.attemptsDetail[0]!.at) <= Date.parse(detail.attemptsDetail[1]!.at));
    });

    it('GET /v1/runs/{unknown} is a 404 problem', async () => {
      expectProblem(await call('GET', '/v1/runs/no-such-workflow-id'), 404, 'not-found');
    });

    it('a backfill is in the audit trail while its runs are still going', async () => {
      const id = uniqueId('ct-fill-audit');
      await createTask({
        id,
        schedule: { cron: '*/5 * * * * *' },
        handler: { type: 'function', name: 'slow' },
        paused: true,
      });
      const to = Math.floor(Date.now() / 5_000) * 5_000 - 5_000;
      const body = { from: new Date(to - 50_000).toISOString(), to: new Date(to).toISOString() };
      const response = await call('POST', `/v1/tasks/${id}/backfill`, body);
      expectStatus(response, 202);
      const change = client.workflow.getHandle(response.json<{ workflowId: string }>().workflowId);
      const [entry] = await auditOf(id, 2);
      assert.equal(entry?.action, 'backfill');
      assert.equal(entry?.actor, 'admin');
      assert.equal((await change.describe()).status.name, 'RUNNING', 'seen before its 10 runs of 0.5 s were done');
      await change.result();
    });

    it('backfill over a past window runs each fire once with trigger backfill; again starts nothing', async () => {
      const id = uniqueId('ct-fill');
      await createTask({
        id,
        schedule: { cron: '*/10 * * * * *' },
        handler: { type: 'function', name: 'ok' },
        // Paused: only the backfill runs (the schedule itself would fire every 10 s).
        paused: true,
      });
      const now = Math.floor(Date.now() / 1000) * 1000;
      const from = now - 60_000;
      const to = now - 30_000;
      const expected: string[] = [];
      for (let t = Math.ceil(from / 10_000) * 10_000; t < to; t += 10_000) expected.push(formatInstant(t));
      assert.equal(expected.length, 3);
      const window = `?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;

      const body = { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
      const first = await call('POST', `/v1/tasks/${id}/backfill`, body);
      expectStatus(first, 202);
      const change = first.json<{ workflowId: string; runId: string }>();
      assert.deepEqual(Object.keys(change).sort(), ['runId', 'workflowId']);
      await client.workflow.getHandle(change.workflowId).result();

      const runs = await runsUntil(
        id,
        (items) => (items.length >= 3 && items.every((r) => r.status === 'succeeded') ? items : undefined),
        window,
        'three succeeded backfill runs',
      );
      assert.deepEqual(runs.map((r) => r.nominalTime).sort(), expected);
      for (const run of runs) {
        assert.equal(run.trigger, 'backfill');
        assert.equal(run.workflowId, `${id}-${run.nominalTime}`);
        assert.equal(run.attempts, 1);
      }

      const again = await call('POST', `/v1/tasks/${id}/backfill`, body);
      expectStatus(again, 202);
      const secondChange = again.json<{ workflowId: string }>();
      assert.notEqual(secondChange.workflowId, change.workflowId);
      // The second backfill completes (each fire is already done) instead of failing or hanging.
      await client.workflow.getHandle(secondChange.workflowId).result();
      const all = await call('GET', `/v1/tasks/${id}/runs`);
      expectStatus(all, 200);
      const after = all.json<{ items: RunJson[] }>().items;
      assert.equal(after.length, 3, JSON.stringify(after));
      assert.deepEqual(
        after.map((r) => r.runId).sort(),
        runs.map((r) => r.runId).sort(),
        'no second run for an already-succeeded nominal time',
      );

      const ledger = await call('GET', `/v1/tasks/${id}/ledger${window}`, undefined, VIEWER);
      expectStatus(ledger, 200);
      const { items, summary } = ledger.json<{ items: unknown[]; summary: Record<string, number> }>();
      assert.ok(Array.isArray(items));
      assert.deepEqual(Object.keys(summary).sort(), [
        'dstSkipped',
        'duplicates',
        'expected',
        'failed',
        'missed',
        'running',
        'skipped',
        'succeeded',
      ]);
      assert.equal(summary.duplicates, 0);

      const bad = expectProblem(await call('POST', `/v1/tasks/${id}/backfill`, { from: body.to, to: body.from }), 400);
      assert.deepEqual(bad.errors, [{ path: 'body.to', message: 'must be after from' }]);
      // The future belongs to the schedule: a window wholly ahead is refused.
      const ahead = {
        from: new Date(Date.now() + 60_000).toISOString(),
        to: new Date(Date.now() + 120_000).toISOString(),
      };
      const future = expectProblem(await call('POST', `/v1/tasks/${id}/backfill`, ahead), 400);
      assert.deepEqual(future.errors, [{ path: 'body.from', message: 'must be in the past' }]);
    });
  });

  describe('preview', () => {
    it('POST /v1/preview gives exact UTC instants and Berlin wall times strictly after from', async () => {
      const response = await call(
        'POST',
        '/v1/preview',
        {
          schedule: { cron: '0 9 * * MON', timezone: 'Europe/Berlin' },
          count: 3,
          from: '2027-01-01T00:00:00Z',
        },
        VIEWER,
      );
      expectStatus(response, 200);
      assert.deepEqual(response.json(), {
        runs: [
          { at: '2027-01-04T08:00:00Z', local: '2027-01-04T09:00:00+01:00' },
          { at: '2027-01-11T08:00:00Z', local: '2027-01-11T09:00:00+01:00' },
          { at: '2027-01-18T08:00:00Z', local: '2027-01-18T09:00:00+01:00' },
        ],
      });
    });

    it('from on a fire time excludes that fire', async () => {
      const response = await call('POST', '/v1/preview', {
        schedule: { cron: '0 9 * * MON', timezone: 'Europe/Berlin' },
        count: 1,
        from: '2027-01-04T08:00:00Z',
      });
      expectStatus(response, 200);
      assert.deepEqual(response.json<{ runs: { at: string }[] }>().runs[0]!.at, '2027-01-11T08:00:00Z');
    });

    it('an invalid schedule is a 400 problem', async () => {
      expectProblem(await call('POST', '/v1/preview', { schedule: { cron: '61 * * * *' } }), 400, 'validation');
    });

    it('a CRON_TZ prefix that contradicts timezone is a 400 problem at schedule.timezone, not a 500', async () => {
      const schedule = { cron: 'CRON_TZ=Asia/Tokyo 0 9 * * *', timezone: 'Europe/Berlin' };
      const response = await call('POST', '/v1/preview', { schedule });
      expectProblem(response, 400, 'validation');
      assert.equal(response.json<{ errors: { path: string }[] }>().errors[0]?.path, 'schedule.timezone');
    });
  });

  describe('jobs', () => {
    it('POST /v1/jobs is 202 {jobId, workflowId}; GET /v1/jobs/{jobId} shows it succeeded with its result', async () => {
      const response = await call(
        'POST',
        '/v1/jobs',
        { handler: { type: 'function', name: 'ok' }, input: { n: 1 }, idempotencyKey: uniqueId('job') },
        OPS,
      );
      expectStatus(response, 202);
      const job = response.json<{ jobId: string; workflowId: string }>();
      assert.deepEqual(Object.keys(job).sort(), ['jobId', 'workflowId']);
      assert.match(job.jobId, /^[0-9a-f]{32}$/);
      assert.equal(job.workflowId, `job-${job.jobId}`);

      const done = await waitFor(
        async () => {
          const read = await call('GET', `/v1/jobs/${job.jobId}`, undefined, VIEWER);
          expectStatus(read, 200);
          const body = read.json<{ jobId: string; status: string; run: RunJson; result?: unknown }>();
          assert.equal(body.status, body.run.status, 'the status stands at the top too');
          return body.run.status === 'running' ? undefined : body;
        },
        30_000,
        'the job to finish',
      );
      assert.equal(done.jobId, job.jobId);
      assert.equal(done.run.status, 'succeeded');
      assert.equal(done.run.workflowId, job.workflowId);
      assert.deepEqual(done.result, { ok: true, input: { n: 1 } });
    });

    it('20 concurrent submissions with one idempotency key are one job, run exactly once', async () => {
      const key = uniqueId('job-once');
      const body = { handler: { type: 'function', name: 'slow' }, idempotencyKey: key };
      const results = await Promise.all(Array.from({ length: 20 }, () => call('POST', '/v1/jobs', body)));
      for (const response of results) expectStatus(response, 202);
      const ids = new Set(results.map((r) => JSON.stringify(r.json())));
      assert.equal(ids.size, 1, [...ids].join(' | '));
      const job = results[0]!.json<{ jobId: string; workflowId: string }>();

      const done = await waitFor(
        async () => {
          const body = (await call('GET', `/v1/jobs/${job.jobId}`)).json<{ run: RunJson; result?: unknown }>();
          return body.run.status === 'running' ? undefined : body;
        },
        30_000,
        'the job to finish',
      );
      assert.equal(done.run.status, 'succeeded');
      assert.deepEqual(done.result, { slow: true, key });
      // A late resubmission is the same job too, and runs nothing.
      const late = await call('POST', '/v1/jobs', body);
      expectStatus(late, 202);
      assert.deepEqual(late.json(), job);
      await sleep(1_000);
      assert.equal(countedByKey.get(key), 1, 'the handler ran exactly once');

      const other = await call('POST', '/v1/jobs', { ...body, idempotencyKey: uniqueId('job-other') });
      expectStatus(other, 202);
      const otherJob = other.json<{ jobId: string; workflowId: string }>();
      assert.notEqual(otherJob.jobId, job.jobId);
      assert.notEqual(otherJob.workflowId, job.workflowId);
    });

    it('a job with incoherent retry or timeouts, or an http job with input, is a 400 problem, not a 500', async () => {
      const job = { handler: { type: 'function', name: 'ok' }, idempotencyKey: uniqueId('job-bad') };
      const retry = { initialInterval: '1m', maxInterval: '1s' };
      expectProblem(await call('POST', '/v1/jobs', { ...job, retry }), 400, 'validation');
      expectProblem(
        await call('POST', '/v1/jobs', { ...job, timeouts: { attempt: '1h', total: '1m' } }),
        400,
        'validation',
      );
      const http = { type: 'http', url: 'https://example.com/hook' };
      const response = await call('POST', '/v1/jobs', { ...job, handler: http, input: { n: 1 } });
      expectProblem(response, 400, 'validation');
      assert.equal(response.json<{ errors: { path: string }[] }>().errors[0]?.path, 'input');
    });

    it('GET /v1/jobs/{unknown} is a 404 problem; a malformed job id is 400', async () => {
      expectProblem(await call('GET', `/v1/jobs/${'0'.repeat(32)}`), 404, 'not-found');
      expectProblem(await call('GET', '/v1/jobs/not-a-job'), 400, 'validation');
    });

    it('a job naming an unknown handler is a 400 problem', async () => {
      const problem = expectProblem(
        await call('POST', '/v1/jobs', { handler: { type: 'function', name: 'nope' }, idempotencyKey: 'k-nope' }),
        400,
        'validation',
      );
      assert.equal(problem.errors?.[0]?.path, 'handler.name');
    });
  });

  describe('audit and delete', () => {
    it('every change by a named write token is audited with its actor, newest first', async () => {
      const id = uniqueId('ct-audit');
      const v1 = taskSpecSchema.parse(yearly(id, 'ok', { description: 'audit v1' }));
      const v2 = taskSpecSchema.parse(yearly(id, 'ok', { description: 'audit v2' }));
      await createTask(v1, OPS);
      expectStatus(await call('PUT', `/v1/tasks/${id}`, v2, OPS), 200);
      expectStatus(await call('POST', `/v1/tasks/${id}/pause`, { note: 'audit pause' }, OPS), 200);
      expectStatus(await call('POST', `/v1/tasks/${id}/resume`, {}, OPS), 200);
      const trigger = await call('POST', `/v1/tasks/${id}/trigger`, undefined, OPS);
      expectStatus(trigger, 202);
      await runsUntil(id, (runs) => runs.find((r) => r.status === 'succeeded'));
      const deleted = await call('DELETE', `/v1/tasks/${id}`, undefined, OPS);
      expectStatus(deleted, 204);
      assert.equal(deleted.body, '');
      created.delete(id);

      const items = await auditOf(id, 6);
      assert.deepEqual(
        items.map((entry) => entry.action),
        ['delete', 'trigger', 'resume', 'pause', 'update', 'create'],
      );
      for (const entry of items) {
        assert.equal(entry.actor, 'ops');
        assert.equal(entry.taskId, id);
        assert.match(entry.at, ISO);
      }
      const times = items.map((entry) => Date.parse(entry.at));
      assert.deepEqual(
        times,
        [...times].sort((a, b) => b - a),
        'newest first',
      );
      const update = items.find((entry) => entry.action === 'update')!;
      assert.deepEqual(update.before, v1);
      assert.deepEqual(update.after, v2);
      const createEntry = items.find((entry) => entry.action === 'create')!;
      assert.deepEqual(createEntry.after, v1);
      assert.equal(createEntry.before, undefined);
      const deleteEntry = items.find((entry) => entry.action === 'delete')!;
      assert.deepEqual(deleteEntry.before, v2);
      assert.equal(deleteEntry.after, undefined);
      const pauseEntry = items.find((entry) => entry.action === 'pause')!;
      assert.deepEqual(pauseEntry.after, { paused: true, note: 'audit pause' });

      // A window in the future holds none of them.
      const future = await call('GET', `/v1/audit?taskId=${id}&from=2999-01-01T00:00:00Z`);
      expectStatus(future, 200);
      assert.deepEqual(future.json<{ items: unknown[] }>().items, []);
    });

    it('changes by the admin token are audited with actor admin', async () => {
      const id = uniqueId('ct-admin');
      await createTask(yearly(id, 'ok'));
      expectStatus(await call('POST', `/v1/tasks/${id}/pause`, {}), 200);
      const items = await auditOf(id, 2);
      assert.deepEqual(
        items.map((entry) => [entry.action, entry.actor]),
        [
          ['pause', 'admin'],
          ['create', 'admin'],
        ],
      );
    });

    it('DELETE is 204, then GET is 404 and DELETE again is 404', async () => {
      const id = uniqueId('ct-del');
      await createTask(yearly(id, 'ok'));
      const deleted = await call('DELETE', `/v1/tasks/${id}`);
      expectStatus(deleted, 204);
      assert.equal(deleted.body, '');
      created.delete(id);
      expectProblem(await call('GET', `/v1/tasks/${id}`), 404, 'not-found');
      const again = expectProblem(await call('DELETE', `/v1/tasks/${id}`), 404, 'not-found');
      assert.equal(again.detail, `task ${id} not found`);
    });
  });

  describe('apply', () => {
    it('POST /v1/apply creates two specs, and applying them again leaves both unchanged', async () => {
      const a = yearly(uniqueId('ct-apply-a'), 'ok');
      const b = yearly(uniqueId('ct-apply-b'), 'ok', { description: 'apply b' });
      created.add(a.id).add(b.id);
      const first = await call('POST', '/v1/apply', { tasks: [a, b] });
      expectStatus(first, 200);
      assert.deepEqual(first.json(), { created: [a.id, b.id], updated: [], unchanged: [], deleted: [], skipped: [] });
      const second = await call('POST', '/v1/apply', { tasks: [a, b] });
      expectStatus(second, 200);
      assert.deepEqual(second.json(), {
        created: [],
        updated: [],
        unchanged: [a.id, b.id],
        deleted: [],
        skipped: [],
      });
      const view = await call('GET', `/v1/tasks/${b.id}`);
      expectStatus(view, 200);
      assertTask(view.json<TaskJson>(), taskSpecSchema.parse(b));
    });

    it('POST /v1/apply with an invalid task is a 400 problem naming tasks.<index>', async () => {
      const problem = expectProblem(
        await call('POST', '/v1/apply', { tasks: [yearly(uniqueId('ct-ok'), 'ok'), { id: 'BAD' }] }),
        400,
        'validation',
      );
      assert.ok(
        problem.errors?.every((issue) => issue.path.startsWith('tasks.1')),
        JSON.stringify(problem.errors),
      );
    });
  });

  describe('operations', () => {
    it('/metrics (no token) counts API requests', async () => {
      const response = await call('GET', '/metrics', undefined, null);
      expectStatus(response, 200);
      assert.match(response.body, /^# HELP surecron_api_requests_total /m);
      assert.match(response.body, /surecron_api_requests_total\{method="POST",route="\/v1\/tasks",status="201"\} \d+/);
    });

    it('no response body carried a stack trace or a token', () => {
      assert.ok(responses.length > 50, `${responses.length} responses checked`);
      for (const { label, body } of responses) {
        assert.doesNotMatch(body, /\bat .*\.ts:\d+/, label);
        for (const secret of TOKENS) assert.ok(!body.includes(secret), label);
      }
    });
  });
});
