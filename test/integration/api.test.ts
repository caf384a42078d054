import { TaskService } from '../../src/tasks/service.js';
import { testRules } from '../helpers/rules.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { Readiness } from '../../src/temporal/readiness.js';
import { listRuns } from '../../src/runs/runs.js';
import { taskSpecSchema, type TaskSpec, type TaskSpecInput } from '../../src/tasks/spec.js';
import type { TaskStore } from '../../src/tasks/store.js';
import { deleteSchedules } from '../helpers/teardown.js';
import { quietLogger, testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';

const ADMIN = 'admin-token-0123456789';
const READER = 'readtoken1234567';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const PROBLEM_KEYS = ['detail', 'status', 'title', 'type'];

type App = Awaited<ReturnType<typeof buildApp>>;

/** No response body ever carries a stack trace or a source path. */
function assertNoStack(response: LightMyRequestResponse): void {
  assert.doesNotMatch(response.body, /\n\s+at\s|\bat .*\(.*:\d+:\d+\)|\.ts:\d+|node_modules|Error: /, response.body);
}

function assertProblem(response: LightMyRequestResponse, status: number, slug: string, title: string) {
  assert.equal(response.statusCode, status, response.body);
  assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  const body = response.json<{ type: string; title: string; status: number; detail: string; errors?: unknown }>();
  assert.deepEqual(
    Object.keys(body)
      .filter((k) => k !== 'errors')
      .sort(),
    PROBLEM_KEYS,
  );
  assert.equal(body.type, `https://surecron.dev/problems/${slug}`);
  assert.equal(body.title, title);
  assert.equal(body.status, status);
  assert.equal(typeof body.detail, 'string');
  assertNoStack(response);
  return body;
}

/** The next 1 January 00:00 UTC after now: when a `0 0 1 1 *` task next runs. */
function nextNewYear(): string {
  return `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`;
}

interface TaskViewJson {
  id: string;
  spec: TaskSpec;
  source: string;
  state: { paused: boolean; note: string };
  nextRuns: string[];
  recentRuns: Record<string, unknown>[];
  counts: { taken: number; missedCatchup: number; skippedOverlap: number };
  createdAt: string;
  updatedAt: string;
}

describe('HTTP API (buildApp + inject) against the real dev server', () => {
  let client: Client;
  let store: TaskStore;
  let app: App;
  let taskQueue: string;
  let ready: Readiness = { ready: true, checks: { temporal: 'ok', worker: 'ok (1 poller)' } };
  const created: string[] = [];
  const started = Date.now();

  async function get(url: string, token: string | null = ADMIN): Promise<LightMyRequestResponse> {
    const response = await app.inject({
      method: 'GET',
      url,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
    });
    assertNoStack(response);
    return response;
  }

  async function createTask(input: TaskSpecInput): Promise<TaskSpec> {
    const spec = taskSpecSchema.parse(input);
    await store.create(spec, 'api');
    created.push(spec.id);
    return spec;
  }

  /** Lists this test's tasks through the API until every id in `ids` shows up (the schedule list is eventually consistent). */
  async function listUntil(ids: string[], query = ''): Promise<TaskViewJson[]> {
    return waitFor(
      async () => {
        const response = await get(`/v1/tasks${query}`);
        assert.equal(response.statusCode, 200, response.body);
        const { items } = response.json<{ items: TaskViewJson[] }>();
        return ids.every((id) => items.some((item) => item.id === id)) ? items : undefined;
      },
      15_000,
      `tasks ${ids.join(', ')} in GET /v1/tasks${query}`,
    );
  }

  before(async () => {
    client = await testClient();
    taskQueue = uniqueId('tq-api');
    store = testStore(client, taskQueue);
    app = await buildApp({
      service: new TaskService(client, store),
      rules: testRules('127.0.0.1,localhost'),
      logger: quietLogger,
      apiToken: ADMIN,
      namedTokens: `ops:${READER}:read`,
      readiness: async () => Promise.resolve(ready),
    });
  });

  after(async () => {
    await deleteSchedules(client, created);
    await app.close();
    await client.connection.close();
  });

  describe('public endpoints', () => {
    it('GET /livez is 200 {status: "ok"} without a token', async () => {
      const response = await get('/livez', null);
      assert.equal(response.statusCode, 200);
      assert.deepEqual(response.json(), { status: 'ok' });
    });

    it('GET /readyz follows the readiness function, without a token', async () => {
      ready = { ready: true, checks: { temporal: 'ok', worker: 'ok (1 poller)' } };
      const up = await get('/readyz', null);
      assert.equal(up.statusCode, 200);
      assert.deepEqual(up.json(), { status: 'ready', checks: { temporal: 'ok', worker: 'ok (1 poller)' } });

      ready = { ready: false, checks: { temporal: 'ok', worker: 'no worker polling' } };
      const down = await get('/readyz', null);
      assert.equal(down.statusCode, 503);
      assert.deepEqual(down.json(), { status: 'not ready', checks: { temporal: 'ok', worker: 'no worker polling' } });

      // A wrong token does not matter on a public route.
      const wrongToken = await get('/readyz', 'not-a-token-at-all');
      assert.equal(wrongToken.statusCode, 503);
      ready = { ready: true, checks: { temporal: 'ok', worker: 'ok (1 poller)' } };
    });

    it('GET /openapi.json is a 3.1.0 document listing the task and run paths', async () => {
      const response = await get('/openapi.json', null);
      assert.equal(response.statusCode, 200);
      const doc = response.json<{
        openapi: string;
        info: { title: string };
        paths: Record<string, unknown>;
        components: { securitySchemes: Record<string, unknown> };
      }>();
      assert.equal(doc.openapi, '3.1.0');
      assert.equal(doc.info.title, 'surecron API');
      assert.ok('/v1/tasks' in doc.paths, Object.keys(doc.paths).join(', '));
      assert.ok('/v1/tasks/{id}' in doc.paths);
      assert.ok('/v1/tasks/{id}/runs' in doc.paths);
      assert.ok(!('/livez' in doc.paths), 'health routes are hidden');
      const bearer = doc.components.securitySchemes.bearer as { type: string; scheme: string; description: string };
      assert.deepEqual([bearer.type, bearer.scheme], ['http', 'bearer']);
      assert.match(bearer.description, /SURECRON_JWT_/);
    });

    it('GET /docs serves the Swagger UI without a token', async () => {
      const response = await get('/docs', null);
      if (response.statusCode === 302) {
        assert.equal(response.headers.location, '/docs/');
        const page = await get('/docs/', null);
        assert.equal(page.statusCode, 200);
        assert.match(page.body, /Swagger UI/);
      } else {
        assert.equal(response.statusCode, 200);
        assert.match(String(response.headers['content-type']), /^text\/html/);
        assert.match(response.body, /Swagger UI/);
      }
    });
  });

  describe('authentication', () => {
    it('GET /v1/tasks without a token is 401 problem+json', async () => {
      const body = assertProblem(await get('/v1/tasks', null), 401, 'unauthorized', 'Unauthorized');
      assert.deepEqual(body, {
        type: 'https://surecron.dev/problems/unauthorized',
        title: 'Unauthorized',
        status: 401,
        detail: 'a valid bearer token is required',
      });
    });

    it('a wrong token, a non-bearer scheme or a bare token is 401', async () => {
      assertProblem(await get('/v1/tasks', 'wrong-token-0123456789'), 401, 'unauthorized', 'Unauthorized');
      for (const authorization of [`Basic ${ADMIN}`, ADMIN, `Bearer ${ADMIN} extra`]) {
        const response = await app.inject({ method: 'GET', url: '/v1/tasks', headers: { authorization } });
        assertProblem(response, 401, 'unauthorized', 'Unauthorized');
      }
    });

    it('"bearer" in lower case is accepted', async () => {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/tasks',
        headers: { authorization: `bearer ${ADMIN}` },
      });
      assert.equal(response.statusCode, 200, response.body);
    });

    it('a named read token (SURECRON_API_TOKENS) can GET /v1/tasks', async () => {
      const response = await get('/v1/tasks', READER);
      assert.equal(response.statusCode, 200, response.body);
      assert.ok(Array.isArray(response.json<{ items: unknown[] }>().items));
    });
  });

  describe('errors are problems', () => {
    it('GET /v1/tasks/does-not-exist is 404', async () => {
      const body = assertProblem(await get('/v1/tasks/does-not-exist'), 404, 'not-found', 'Not found');
      assert.equal(body.detail, 'task does-not-exist not found');
    });

    it('GET /v1/tasks/does-not-exist/runs is 404', async () => {
      const body = assertProblem(await get('/v1/tasks/does-not-exist/runs'), 404, 'not-found', 'Not found');
      assert.equal(body.detail, 'task does-not-exist not found');
    });

    it('GET /v1/tasks/BAD!id is 400 with errors naming the param', async () => {
      const body = assertProblem(await get('/v1/tasks/BAD!id'), 400, 'validation', 'Invalid request');
      const errors = body.errors as { path: string; message: string }[];
      assert.equal(errors.length, 1);
      assert.equal(errors[0]!.path, 'params.id');
      assert.match(errors[0]!.message, /^must be 1–63 characters/);
      assert.match(body.detail, /^params\.id: must be 1–63 characters/);
    });

    it('an unknown route is 404', async () => {
      const body = assertProblem(await get('/v2/nothing-here?x=1'), 404, 'not-found', 'Not found');
      assert.equal(body.detail, 'no route GET /v2/nothing-here');
    });

    it('bad query parameters are 400 naming the parameter', async () => {
      const tag = assertProblem(await get('/v1/tasks?tag=no-equals-sign'), 400, 'validation', 'Invalid request');
      assert.deepEqual(tag.errors, [{ path: 'querystring.tag', message: 'must be key=value' }]);
      const size = assertProblem(await get('/v1/tasks?pageSize=0'), 400, 'validation', 'Invalid request');
      assert.equal((size.errors as { path: string }[])[0]!.path, 'querystring.pageSize');
    });

    it('an internal error is a 500 problem that hides the cause and the stack', async () => {
      const broken = {
        list: () => Promise.reject(new Error('kaboom: secret internals')),
      } as unknown as TaskStore;
      const brokenApp = await buildApp({
        service: new TaskService(client, broken),
        rules: testRules(),
        logger: quietLogger,
        apiToken: ADMIN,
        readiness: async () => Promise.resolve(ready),
      });
      try {
        const response = await brokenApp.inject({
          method: 'GET',
          url: '/v1/tasks',
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        const body = assertProblem(response, 500, 'internal', 'Internal error');
        assert.equal(body.detail, 'the server could not complete the request; see its logs');
        assert.doesNotMatch(response.body, /kaboom|secret internals/);
      } finally {
        await brokenApp.close();
      }
    });
  });

  describe('task views', () => {
    let taskX: TaskSpec;
    let taskY: TaskSpec;

    before(async () => {
      taskX = await createTask({
        id: uniqueId('api-x'),
        description: 'api test task x',
        tags: { team: 'x', tier: 'gold' },
        schedule: { cron: '0 0 1 1 *' },
        handler: { type: 'function', name: 'record' },
      });
      taskY = await createTask({
        id: uniqueId('api-y'),
        tags: { team: 'y' },
        schedule: { cron: '0 0 1 1 *' },
        handler: { type: 'function', name: 'record' },
      });
    });

    it('GET /v1/tasks lists a created task with source, state, nextRuns, counts and createdAt', async () => {
      const items = await listUntil([taskX.id, taskY.id]);
      const view = items.find((item) => item.id === taskX.id)!;
      assert.deepEqual(view.spec, taskX);
      assert.equal(view.source, 'api');
      assert.deepEqual(view.state, { paused: false, note: 'api test task x (surecron, from api)' });
      assert.ok(view.nextRuns.length >= 1, 'at least one upcoming run');
      for (const next of view.nextRuns) assert.match(next, ISO);
      assert.equal(view.nextRuns[0], nextNewYear());
      if (view.nextRuns[1]) assert.equal(view.nextRuns[1], `${new Date().getUTCFullYear() + 2}-01-01T00:00:00.000Z`);
      assert.deepEqual(view.counts, { taken: 0, missedCatchup: 0, skippedOverlap: 0 });
      assert.deepEqual(view.recentRuns, []);
      assert.match(view.createdAt, ISO);
      assert.match(view.updatedAt, ISO);
      const createdAt = Date.parse(view.createdAt);
      assert.ok(createdAt >= started - 5_000 && createdAt <= Date.now() + 5_000, `createdAt ${view.createdAt}`);
      assert.deepEqual(
        Object.keys(view).sort(),
        ['counts', 'createdAt', 'id', 'nextRuns', 'recentRuns', 'source', 'spec', 'state', 'updatedAt'].sort(),
      );
      // Note defaults to "<id> (surecron, from api)" without a description.
      const viewY = items.find((item) => item.id === taskY.id)!;
      assert.equal(viewY.state.note, `${taskY.id} (surecron, from api)`);
    });

    it('only this deployment’s tasks are listed (its task queue)', async () => {
      const items = await listUntil([taskX.id, taskY.id]);
      for (const item of items) assert.ok(created.includes(item.id), `foreign task ${item.id} listed`);
    });

    it('?tag=team=x filters by tag', async () => {
      const x = await listUntil([taskX.id], '?tag=team=x');
      assert.deepEqual(
        x.map((item) => item.id),
        [taskX.id],
      );
      const y = await listUntil([taskY.id], '?tag=team=y');
      assert.deepEqual(
        y.map((item) => item.id),
        [taskY.id],
      );
      const none = await get('/v1/tasks?tag=team=z');
      assert.equal(none.statusCode, 200);
      assert.deepEqual(none.json(), { items: [] });
      const gold = await listUntil([taskX.id], '?tag=tier=gold');
      assert.equal(gold.length, 1);
    });

    it('?paused=false lists both, ?paused=true neither', async () => {
      const unpaused = await listUntil([taskX.id, taskY.id], '?paused=false');
      assert.equal(unpaused.length, 2);
      const paused = await get('/v1/tasks?paused=true');
      assert.deepEqual(paused.json(), { items: [] });
    });

    it('pageSize and pageToken page through the list, each task once', async () => {
      await listUntil([taskX.id, taskY.id]);
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const response = await get(`/v1/tasks?pageSize=1${token ? `&pageToken=${token}` : ''}`);
        assert.equal(response.statusCode, 200, response.body);
        const page = response.json<{ items: TaskViewJson[]; nextPageToken?: string }>();
        assert.ok(page.items.length <= 1, `page of ${page.items.length}`);
        if (page.nextPageToken) assert.match(page.nextPageToken, /^[A-Za-z0-9_-]+$/);
        seen.push(...page.items.map((item) => item.id));
        token = page.nextPageToken;
        pages++;
      } while (token && pages < 10);
      for (const id of seen) assert.ok(created.includes(id), `foreign task ${id} listed`);
      assert.deepEqual([...new Set(seen)].sort(), [...seen].sort(), 'no task on two pages');
      for (const id of [taskX.id, taskY.id]) assert.ok(seen.includes(id), `${id} on some page`);
      assert.ok(pages >= 2, `pages: ${pages}`);
    });

    it('a page token the API did not hand out is a 400 naming pageToken', async () => {
      for (const token of ['abc', 'not*a*token']) {
        const body = assertProblem(await get(`/v1/tasks?pageToken=${token}`), 400, 'validation', 'Invalid request');
        assert.equal((body.errors as { path: string }[])[0]!.path, 'querystring.pageToken');
      }
    });

    it('filters follow changes: a replaced spec’s tags, a paused task', async () => {
      const spec = await createTask({
        id: uniqueId('api-retag'),
        tags: { team: 'before' },
        schedule: { cron: '0 0 1 1 *' },
        handler: { type: 'function', name: 'record' },
      });
      await listUntil([spec.id], '?tag=team=before');
      assert.equal(await store.replace(taskSpecSchema.parse({ ...spec, tags: { team: 'after' } }), 'api'), true);
      await store.client.schedule.getHandle(spec.id).pause('filter test');
      const [listed] = await listUntil([spec.id], '?tag=team=after&paused=true');
      assert.deepEqual(listed!.spec.tags, { team: 'after' });
      assert.equal(listed!.state.paused, true);
      await waitFor(
        async () => {
          const { items } = (await get('/v1/tasks?tag=team=before')).json<{ items: TaskViewJson[] }>();
          return items.length === 0 ? true : undefined;
        },
        15_000,
        'the old tag to drop out of the list',
      );
    });

    it('GET /v1/tasks/{id} returns the same view, with recentRuns', async () => {
      const [listed] = await listUntil([taskX.id], '?tag=team=x');
      const response = await get(`/v1/tasks/${taskX.id}`);
      assert.equal(response.statusCode, 200, response.body);
      const view = response.json<TaskViewJson>();
      assert.deepEqual(view, listed);
      assert.deepEqual(view.recentRuns, []);
      // The read token may read a single task too.
      assert.equal((await get(`/v1/tasks/${taskX.id}`, READER)).statusCode, 200);
    });

    it('a task whose http handler has secret headers never shows their values', async () => {
      const secretValue = 'Bearer super-secret-value-42';
      const spec = await createTask({
        id: uniqueId('api-secret'),
        schedule: { cron: '0 0 1 1 *' },
        handler: {
          type: 'http',
          url: 'https://example.com/hook',
          headers: { authorization: secretValue, 'X-Api-Key': 'key-value-99', 'x-trace': 'visible-value' },
          secretHeaders: ['Authorization', 'x-api-key'],
        },
      });
      const single = await get(`/v1/tasks/${spec.id}`);
      assert.equal(single.statusCode, 200, single.body);
      const view = single.json<TaskViewJson>();
      assert.equal(view.spec.handler.type, 'http');
      assert.deepEqual((view.spec.handler as { headers: Record<string, string> }).headers, {
        authorization: '[secret]',
        'X-Api-Key': '[secret]',
        'x-trace': 'visible-value',
      });
      assert.deepEqual((view.spec.handler as { secretHeaders: string[] }).secretHeaders, [
        'Authorization',
        'x-api-key',
      ]);
      assert.ok(!single.body.includes('super-secret-value-42'), 'secret leaked in GET /v1/tasks/{id}');
      assert.ok(!single.body.includes('key-value-99'), 'secret leaked in GET /v1/tasks/{id}');

      const items = await listUntil([spec.id]);
      const listed = items.find((item) => item.id === spec.id)!;
      assert.equal((listed.spec.handler as { headers: Record<string, string> }).headers.authorization, '[secret]');
      const list = await get('/v1/tasks');
      assert.ok(!list.body.includes('super-secret-value-42'), 'secret leaked in GET /v1/tasks');
      assert.ok(!list.body.includes('key-value-99'), 'secret leaked in GET /v1/tasks');
    });
  });

  describe('runs', () => {
    it('GET /v1/tasks/{id}/runs lists a triggered run with the Run fields; ?status filters; bogus status is 400', async () => {
      const spec = await createTask({
        id: uniqueId('api-runs'),
        schedule: { cron: '0 0 1 1 *' },
        handler: { type: 'function', name: 'record' },
      });
      const empty = await get(`/v1/tasks/${spec.id}/runs`);
      assert.equal(empty.statusCode, 200, empty.body);
      assert.deepEqual(empty.json(), { items: [] });

      let calls = 0;
      const { worker, connection } = await testWorker({
        taskQueue,
        handlers: {
          record: async () => {
            calls += 1;
            return Promise.resolve('recorded');
          },
        },
      });
      const before = Date.now();
      try {
        await client.schedule.getHandle(spec.id).trigger();
        await worker.runUntil(
          waitFor(
            async () => (await listRuns(client, spec.id)).items.find((r) => r.status === 'succeeded'),
            30_000,
            'the triggered run to succeed',
          ),
        );
      } finally {
        await connection.close();
      }
      assert.equal(calls, 1);

      const response = await get(`/v1/tasks/${spec.id}/runs`, READER);
      assert.equal(response.statusCode, 200, response.body);
      const page = response.json<{ items: Record<string, unknown>[]; nextPageToken?: string }>();
      assert.equal(page.items.length, 1);
      assert.equal(page.nextPageToken, undefined);
      const run = page.items[0]!;
      assert.deepEqual(Object.keys(run).sort(), [
        'attempts',
        'closedAt',
        'nominalTime',
        'runId',
        'startedAt',
        'status',
        'trigger',
        'workflowId',
      ]);
      assert.equal(run.status, 'succeeded');
      assert.equal(run.attempts, 1);
      assert.equal(run.trigger, 'schedule');
      assert.match(run.nominalTime as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      assert.equal(run.workflowId, `${spec.id}-${run.nominalTime as string}`);
      assert.match(run.runId as string, /^[0-9a-f-]{36}$/);
      assert.match(run.startedAt as string, ISO);
      assert.match(run.closedAt as string, ISO);
      assert.ok(Date.parse(run.startedAt as string) >= before - 2_000, `startedAt ${run.startedAt as string}`);
      assert.ok(Date.parse(run.closedAt as string) >= Date.parse(run.startedAt as string));

      const succeeded = await get(`/v1/tasks/${spec.id}/runs?status=succeeded`);
      assert.deepEqual(succeeded.json<{ items: unknown[] }>().items, [run]);
      const failed = await get(`/v1/tasks/${spec.id}/runs?status=failed`);
      assert.deepEqual(failed.json(), { items: [] });

      const bogus = assertProblem(
        await get(`/v1/tasks/${spec.id}/runs?status=bogus`),
        400,
        'validation',
        'Invalid request',
      );
      assert.equal((bogus.errors as { path: string }[])[0]!.path, 'querystring.status');

      const badFrom = assertProblem(
        await get(`/v1/tasks/${spec.id}/runs?from=yesterday`),
        400,
        'validation',
        'Invalid request',
      );
      assert.equal((badFrom.errors as { path: string }[])[0]!.path, 'querystring.from');

      // The task view shows the run among its recent runs, and the trigger counts as an action taken.
      const view = await waitFor(
        async () => {
          const v = (await get(`/v1/tasks/${spec.id}`)).json<TaskViewJson>();
          return v.recentRuns.length === 1 && v.counts.taken === 1 ? v : undefined;
        },
        10_000,
        'the run in the task view',
      );
      assert.deepEqual(view.recentRuns, [run]);
      assert.deepEqual(view.counts, { taken: 1, missedCatchup: 0, skippedOverlap: 0 });
    });
  });
});
