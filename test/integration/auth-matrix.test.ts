/**
 * Authentication and authorization of every route: no token, a wrong token, a named read token, a named write
 * token and the admin token, each against every route the API registers, with exact status codes. Write calls use
 * ids that do not exist (404) or requests that change nothing (409, unchanged PUT, empty apply, a repeated job),
 * so the matrix has no side effects beyond one fixture task and one job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { HTTPMethods, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { TaskService } from '../../src/tasks/service.js';
import { testRules } from '../helpers/rules.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { quietLogger, testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';

const ADMIN = 'matrix-admin-token-0123456789';
const WRITER = 'matrix-writer-token-5f3a9c';
const READER = 'matrix-reader-token-8d2e71';
const WRONG = 'matrix-wrong-token-000000000';
const TOKENS = [ADMIN, WRITER, READER, WRONG];

type App = Awaited<ReturnType<typeof buildApp>>;
type Scope = 'public' | 'read' | 'write';
type Caller = 'none' | 'wrong' | 'read' | 'write' | 'admin';

interface RouteCase {
  method: HTTPMethods;
  /** The route as registered (Fastify syntax). */
  route: string;
  url: () => string;
  body?: () => unknown;
  scope: Scope;
  /** The status an allowed caller gets. */
  allowed: number;
}

const authorization: Record<Caller, string | undefined> = {
  none: undefined,
  wrong: `Bearer ${WRONG}`,
  read: `Bearer ${READER}`,
  write: `Bearer ${WRITER}`,
  admin: `Bearer ${ADMIN}`,
};

/** What a caller gets from a route: the allowed status, 401 or 403. */
function expected(caller: Caller, route: RouteCase): number {
  if (route.scope === 'public') return route.allowed;
  if (caller === 'none' || caller === 'wrong') return 401;
  if (caller === 'read' && route.scope === 'write') return 403;
  return route.allowed;
}

describe('auth matrix: every route × every kind of caller', () => {
  let client: Client;
  let app: App;
  let worker: RunningWorker;
  const fixtureId = uniqueId('matrix-fixture');
  const missingId = uniqueId('matrix-missing');
  const jobKey = uniqueId('matrix-job');
  const fixture = {
    id: fixtureId,
    description: 'auth matrix fixture',
    schedule: { cron: '0 0 1 1 *' },
    handler: { type: 'function', name: 'heartbeat' },
    paused: true,
  };
  const jobBody = { handler: { type: 'function', name: 'heartbeat' }, idempotencyKey: jobKey };
  let job: { jobId: string; workflowId: string };
  const bodies: { label: string; body: string }[] = [];

  const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

  /** Every route the API registers, with a minimal valid request. */
  const routes: RouteCase[] = [
    // Public.
    { method: 'GET', route: '/livez', url: () => '/livez', scope: 'public', allowed: 200 },
    { method: 'GET', route: '/readyz', url: () => '/readyz', scope: 'public', allowed: 200 },
    { method: 'GET', route: '/metrics', url: () => '/metrics', scope: 'public', allowed: 200 },
    { method: 'GET', route: '/openapi.json', url: () => '/openapi.json', scope: 'public', allowed: 200 },
    { method: 'GET', route: '/docs', url: () => '/docs', scope: 'public', allowed: 200 },
    { method: 'GET', route: '/docs/', url: () => '/docs/', scope: 'public', allowed: 200 },
    { method: 'GET', route: '/docs/json', url: () => '/docs/json', scope: 'public', allowed: 200 },
    { method: 'GET', route: '/docs/yaml', url: () => '/docs/yaml', scope: 'public', allowed: 200 },
    {
      method: 'GET',
      route: '/docs/static/index.html',
      url: () => '/docs/static/index.html',
      scope: 'public',
      allowed: 302,
    },
    {
      method: 'GET',
      route: '/docs/static/swagger-initializer.js',
      url: () => '/docs/static/swagger-initializer.js',
      scope: 'public',
      allowed: 200,
    },
    {
      method: 'GET',
      route: '/docs/static/*',
      url: () => '/docs/static/swagger-ui.css',
      scope: 'public',
      allowed: 200,
    },
    // Read.
    { method: 'GET', route: '/v1/tasks', url: () => '/v1/tasks', scope: 'read', allowed: 200 },
    { method: 'GET', route: '/v1/tasks/:id', url: () => `/v1/tasks/${fixtureId}`, scope: 'read', allowed: 200 },
    {
      method: 'GET',
      route: '/v1/tasks/:id/runs',
      url: () => `/v1/tasks/${fixtureId}/runs`,
      scope: 'read',
      allowed: 200,
    },
    {
      method: 'GET',
      route: '/v1/tasks/:id/ledger',
      url: () => `/v1/tasks/${fixtureId}/ledger`,
      scope: 'read',
      allowed: 200,
    },
    {
      method: 'GET',
      route: '/v1/tasks/:id/explain',
      url: () => `/v1/tasks/${fixtureId}/explain?at=2026-01-01T00:00:00Z`,
      scope: 'read',
      allowed: 200,
    },
    {
      method: 'GET',
      route: '/v1/runs/:workflowId',
      url: () => `/v1/runs/${job.workflowId}`,
      scope: 'read',
      allowed: 200,
    },
    { method: 'GET', route: '/v1/jobs/:jobId', url: () => `/v1/jobs/${job.jobId}`, scope: 'read', allowed: 200 },
    { method: 'GET', route: '/v1/audit', url: () => `/v1/audit?taskId=${fixtureId}`, scope: 'read', allowed: 200 },
    {
      method: 'POST',
      route: '/v1/preview',
      url: () => '/v1/preview',
      body: () => ({ schedule: { cron: '0 9 * * MON' }, count: 1 }),
      scope: 'read',
      allowed: 200,
    },
    {
      method: 'POST',
      route: '/v1/simulate',
      url: () => '/v1/simulate',
      body: () => ({ taskIds: [fixtureId], from: '2027-01-01T00:00:00Z', to: '2027-02-01T00:00:00Z' }),
      scope: 'read',
      allowed: 200,
    },
    // Write: ids that do not exist (404) or requests that change nothing.
    { method: 'POST', route: '/v1/tasks', url: () => '/v1/tasks', body: () => fixture, scope: 'write', allowed: 409 },
    {
      method: 'PUT',
      route: '/v1/tasks/:id',
      url: () => `/v1/tasks/${fixtureId}`,
      body: () => fixture,
      scope: 'write',
      allowed: 200,
    },
    { method: 'DELETE', route: '/v1/tasks/:id', url: () => `/v1/tasks/${missingId}`, scope: 'write', allowed: 404 },
    {
      method: 'POST',
      route: '/v1/tasks/:id/pause',
      url: () => `/v1/tasks/${missingId}/pause`,
      body: () => ({ note: 'matrix' }),
      scope: 'write',
      allowed: 404,
    },
    {
      method: 'POST',
      route: '/v1/tasks/:id/resume',
      url: () => `/v1/tasks/${missingId}/resume`,
      body: () => ({}),
      scope: 'write',
      allowed: 404,
    },
    {
      method: 'POST',
      route: '/v1/tasks/:id/trigger',
      url: () => `/v1/tasks/${missingId}/trigger`,
      scope: 'write',
      allowed: 404,
    },
    {
      method: 'POST',
      route: '/v1/tasks/:id/backfill',
      url: () => `/v1/tasks/${missingId}/backfill`,
      body: () => ({ from: iso(-3_600_000), to: iso(-60_000) }),
      scope: 'write',
      allowed: 404,
    },
    { method: 'POST', route: '/v1/jobs', url: () => '/v1/jobs', body: () => jobBody, scope: 'write', allowed: 202 },
    {
      method: 'POST',
      route: '/v1/apply',
      url: () => '/v1/apply',
      body: () => ({ tasks: [] }),
      scope: 'write',
      allowed: 200,
    },
    { method: 'GET', route: '/v1/silences', url: () => '/v1/silences', scope: 'read', allowed: 200 },
    {
      method: 'POST',
      route: '/v1/silences',
      url: () => '/v1/silences',
      body: () => ({ match: { taskId: missingId }, endsAt: iso(3_600_000), reason: 'auth matrix' }),
      scope: 'write',
      allowed: 201,
    },
    {
      method: 'DELETE',
      route: '/v1/silences/:id',
      url: () => '/v1/silences/00000000-0000-4000-8000-000000000000',
      scope: 'write',
      allowed: 404,
    },
  ];
  // Fastify answers HEAD for every GET route; HEAD needs what GET needs.
  const headRoutes: RouteCase[] = routes
    .filter((route) => route.method === 'GET')
    .map((route) => ({ ...route, method: 'HEAD' as const }));
  const allRoutes = [...routes, ...headRoutes];

  async function request(route: RouteCase, caller: Caller): Promise<LightMyRequestResponse> {
    const header = authorization[caller];
    const body = route.body?.();
    const response = await app.inject({
      method: route.method,
      url: route.url(),
      headers: header ? { authorization: header } : {},
      ...(body === undefined ? {} : { payload: body as Record<string, unknown> }),
    });
    bodies.push({ label: `${caller} ${route.method} ${route.url()} → ${response.statusCode}`, body: response.body });
    return response;
  }

  before(async () => {
    client = await testClient();
    const taskQueue = uniqueId('tq-matrix');
    worker = await runTestWorker({ taskQueue });
    app = await buildApp({
      service: new TaskService(client, testStore(client, taskQueue)),
      rules: testRules('127.0.0.1,localhost'),
      logger: quietLogger,
      apiToken: ADMIN,
      namedTokens: `deployer:${WRITER}:write, auditor:${READER}:read`,
      readiness: async () => Promise.resolve({ ready: true, checks: { temporal: 'ok', worker: 'ok' } }),
    });
    const auth = { authorization: `Bearer ${ADMIN}` };
    const createdFixture = await app.inject({ method: 'POST', url: '/v1/tasks', headers: auth, payload: fixture });
    assert.equal(createdFixture.statusCode, 201, createdFixture.body);
    const submitted = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: jobBody });
    assert.equal(submitted.statusCode, 202, submitted.body);
    job = submitted.json();
    await client.workflow.getHandle(job.workflowId).result();
  });

  after(async () => {
    await deleteSchedules(client, [fixtureId]);
    await worker.stop();
    await app.close();
    await client.connection.close();
  });

  it('the matrix covers every route the API registers', async () => {
    await app.ready();
    for (const route of allRoutes)
      assert.ok(app.hasRoute({ method: route.method, url: route.route }), `${route.method} ${route.route}`);
    // Every documented operation is in the matrix (the OpenAPI document lists all routes but the hidden ones).
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, unknown>>;
    }>();
    const documented = Object.entries(doc.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`),
    );
    const listed = new Set(routes.map((route) => `${route.method} ${route.route}`));
    assert.deepEqual(
      documented.filter((operation) => !listed.has(operation)),
      [],
      'documented routes missing from the matrix',
    );
    const hiddenPublic = routes.filter((route) => route.scope === 'public').length;
    assert.equal(documented.length + hiddenPublic, routes.length, 'every listed route is documented or public');
  });

  for (const caller of ['none', 'wrong', 'read', 'write', 'admin'] as const) {
    describe(`caller: ${caller === 'none' ? 'no token' : `${caller} token`}`, () => {
      for (const route of allRoutes) {
        const status = expected(caller, route);
        it(`${route.method} ${route.route} → ${status}`, async () => {
          const response = await request(route, caller);
          assert.equal(response.statusCode, status, `${caller} ${route.method} ${route.url()}: ${response.body}`);
          if ((status === 401 || status === 403) && route.method !== 'HEAD') {
            assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
            const problem = response.json<{ type: string; title: string; status: number; detail: string }>();
            assert.deepEqual(
              problem,
              status === 401
                ? {
                    type: 'https://surecron.dev/problems/unauthorized',
                    title: 'Unauthorized',
                    status: 401,
                    detail: 'a valid bearer token is required',
                  }
                : {
                    type: 'https://surecron.dev/problems/forbidden',
                    title: 'Forbidden',
                    status: 403,
                    detail: 'token "auditor" lacks the write scope',
                  },
            );
          }
          if (route.method === 'HEAD') assert.equal(response.body, '');
        });
      }
    });
  }

  describe('authentication comes before validation and routing', () => {
    it('no token with an invalid body or id is 401, not 400', async () => {
      const invalid = await app.inject({ method: 'POST', url: '/v1/tasks', payload: { id: 'BAD!' } });
      assert.equal(invalid.statusCode, 401, invalid.body);
      const badId = await app.inject({ method: 'GET', url: '/v1/tasks/BAD!id' });
      assert.equal(badId.statusCode, 401, badId.body);
    });

    it('a read token with an invalid body on a write route is 403, not 400', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/tasks',
        headers: { authorization: `Bearer ${READER}` },
        payload: { id: 'BAD!' },
      });
      assert.equal(response.statusCode, 403, response.body);
    });

    it('an unknown route is 401 without a token and 404 with a read token', async () => {
      assert.equal((await app.inject({ method: 'GET', url: '/v1/nothing' })).statusCode, 401);
      for (const method of ['GET', 'POST', 'DELETE'] as const) {
        const response = await app.inject({
          method,
          url: '/v1/nothing',
          headers: { authorization: `Bearer ${READER}` },
        });
        assert.equal(response.statusCode, 404, `${method}: ${response.body}`);
      }
    });

    it('a token presented as another scheme, bare, padded or with a suffix is 401', async () => {
      for (const header of [`Basic ${WRITER}`, WRITER, `Bearer ${WRITER} x`, `Bearer ${WRITER}x`, 'Bearer ', '']) {
        const response = await app.inject({ method: 'GET', url: '/v1/tasks', headers: { authorization: header } });
        assert.equal(response.statusCode, 401, `${JSON.stringify(header)}: ${response.body}`);
      }
      const lower = await app.inject({
        method: 'GET',
        url: '/v1/tasks',
        headers: { authorization: `bearer ${READER}` },
      });
      assert.equal(lower.statusCode, 200, lower.body);
    });

    it('write routes with a write token leave the fixture and the job as they were', async () => {
      const view = await app.inject({
        method: 'GET',
        url: `/v1/tasks/${fixtureId}`,
        headers: { authorization: `Bearer ${READER}` },
      });
      assert.equal(view.statusCode, 200, view.body);
      assert.equal(view.json<{ state: { paused: boolean } }>().state.paused, true);
      const runs = client.workflow.list({ query: `WorkflowId = '${job.workflowId}'` });
      let count = 0;
      for await (const execution of runs) count += execution.workflowId === job.workflowId ? 1 : 0;
      assert.equal(count, 1, 'repeated job submissions started no second execution');
      const missing = await app.inject({
        method: 'GET',
        url: `/v1/tasks/${missingId}`,
        headers: { authorization: `Bearer ${READER}` },
      });
      assert.equal(missing.statusCode, 404, 'no task was created under the missing id');
    });

    it('audit entries name the principal, never the token', async () => {
      const items = await waitFor(
        async () => {
          const response = await app.inject({
            method: 'GET',
            url: `/v1/audit?taskId=${fixtureId}`,
            headers: { authorization: `Bearer ${READER}` },
          });
          const entries = response.json<{ items: { actor: string; action: string }[] }>().items;
          return entries.length >= 3 ? entries : undefined;
        },
        15_000,
        'the fixture’s audit entries',
      );
      const actors = new Set(items.map((entry) => entry.actor));
      assert.ok(actors.has('admin') && actors.has('deployer'), [...actors].join(', '));
      for (const actor of actors) assert.ok(['admin', 'deployer'].includes(actor), actor);
    });
  });

  it('no response body ever contains a token or a stack trace', () => {
    assert.ok(bodies.length >= allRoutes.length * 5, `${bodies.length} responses`);
    for (const { label, body } of bodies) {
      for (const token of TOKENS) assert.ok(!body.includes(token), `${label} leaks a token`);
      assert.doesNotMatch(body, /\bat .*\.ts:\d+|\n\s+at\s/, label);
    }
  });
});
