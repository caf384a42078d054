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
import { JwtVerifier } from '../../src/api/jwt.js';
import { IdentityProvider } from '../helpers/identity-provider.js';
import { TaskService } from '../../src/tasks/service.js';
import { testRules } from '../helpers/rules.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { quietLogger, testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';

const ADMIN = 'matrix-admin-token-0123456789';
const WRITER = 'matrix-writer-token-5f3a9c';
const READER = 'matrix-reader-token-8d2e71';
const WRONG = 'matrix-wrong-token-000000000';
/** Team-scoped write tokens: the fixture's team (erp) and another (crm). */
const ERP = 'matrix-erp-token-4b1d07';
const CRM = 'matrix-crm-token-9e6c52';
const TOKENS = [ADMIN, WRITER, READER, WRONG, ERP, CRM];

type App = Awaited<ReturnType<typeof buildApp>>;
type Scope = 'public' | 'read' | 'write';
type Caller =
  | 'none'
  | 'wrong'
  | 'read'
  | 'write'
  | 'admin'
  | 'jwt-read'
  | 'jwt-write'
  | 'jwt-none'
  | 'erp'
  | 'crm'
  | 'jwt-erp'
  | 'jwt-crm';
const callers: Caller[] = [
  'none',
  'wrong',
  'read',
  'write',
  'admin',
  'jwt-read',
  'jwt-write',
  'jwt-none',
  'erp',
  'crm',
  'jwt-erp',
  'jwt-crm',
];
/** Team-scoped callers: the fixture's team (tagged team=erp) and another team. */
const inTeam = (caller: Caller) => caller === 'erp' || caller === 'jwt-erp';
const otherTeam = (caller: Caller) => caller === 'crm' || caller === 'jwt-crm';

interface RouteCase {
  method: HTTPMethods;
  /** The route as registered (Fastify syntax). */
  route: string;
  url: () => string;
  body?: () => unknown;
  scope: Scope;
  /** The status an allowed caller gets. */
  allowed: number;
  /** The status a team-scoped caller of the fixture's team gets, when not `allowed`. */
  inTeam?: number;
  /** The status a team-scoped caller of another team gets, when not `inTeam` (or `allowed`). */
  otherTeam?: number;
  /** What the body must show a caller the route allows (lists filtered by team). */
  check?: (response: LightMyRequestResponse, caller: Caller) => void;
}

const JWT_AUDIENCE = 'surecron-matrix';
/** JWTs from a real local identity provider, minted in `before`: roles read, write, and none of surecron's. */
const jwts: Partial<Record<Caller, string>> = {};

const authorization: Record<Caller, () => string | undefined> = {
  none: () => undefined,
  wrong: () => `Bearer ${WRONG}`,
  read: () => `Bearer ${READER}`,
  write: () => `Bearer ${WRITER}`,
  admin: () => `Bearer ${ADMIN}`,
  'jwt-read': () => `Bearer ${jwts['jwt-read']}`,
  'jwt-write': () => `Bearer ${jwts['jwt-write']}`,
  'jwt-none': () => `Bearer ${jwts['jwt-none']}`,
  erp: () => `Bearer ${ERP}`,
  crm: () => `Bearer ${CRM}`,
  'jwt-erp': () => `Bearer ${jwts['jwt-erp']}`,
  'jwt-crm': () => `Bearer ${jwts['jwt-crm']}`,
};

/** The name a caller's 403 names: the named token, or the JWT's subject. */
const forbiddenName: Partial<Record<Caller, string>> = { read: 'auditor', 'jwt-read': 'jwt-auditor' };

/** The team scope a scoped caller's 403 names. */
const teamOf = (caller: Caller) => (inTeam(caller) ? 'team=erp' : 'team=crm');

/** What a caller gets from a route: the allowed status (or its team's), 401 or 403. */
function expected(caller: Caller, route: RouteCase): number {
  if (route.scope === 'public') return route.allowed;
  if (caller === 'none' || caller === 'wrong') return 401;
  if (caller === 'jwt-none') return 403;
  if ((caller === 'read' || caller === 'jwt-read') && route.scope === 'write') return 403;
  if (inTeam(caller)) return route.inTeam ?? route.allowed;
  if (otherTeam(caller)) return route.otherTeam ?? route.inTeam ?? route.allowed;
  return route.allowed;
}

/** The `detail` of the 403 a caller gets from a route. */
function forbiddenDetail(caller: Caller, route: RouteCase, fixtureId: string): string {
  if (caller === 'jwt-none') return 'token of "jwt-stranger" has no surecron role (read, write or admin)';
  if (caller === 'read' || caller === 'jwt-read') return `token "${forbiddenName[caller]}" lacks the write scope`;
  const name = { erp: 'erp-deployer', crm: 'crm-deployer', 'jwt-erp': 'jwt-erp-ops', 'jwt-crm': 'jwt-crm-ops' }[
    caller as 'erp'
  ];
  const why = route.route.includes('jobs') ? 'one-off jobs carry no tags' : `task ${fixtureId}'s tags are outside it`;
  return `token "${name}" is limited to tasks tagged ${teamOf(caller)}; ${why}`;
}

describe('auth matrix: every route × every kind of caller', () => {
  let client: Client;
  let app: App;
  let worker: RunningWorker;
  let idp: IdentityProvider;
  const fixtureId = uniqueId('matrix-fixture');
  const missingId = uniqueId('matrix-missing');
  const jobKey = uniqueId('matrix-job');
  const fixture = {
    id: fixtureId,
    description: 'auth matrix fixture',
    schedule: { cron: '0 0 1 1 *' },
    handler: { type: 'function', name: 'heartbeat' },
    paused: true,
    tags: { team: 'erp' },
  };
  /** Lists: a team sees the fixture only when it is the fixture's team. */
  const listsFixture = (response: LightMyRequestResponse, caller: Caller, key: 'id' | 'taskId') => {
    const ids = response.json<{ items: Record<string, string>[] }>().items.map((item) => item[key]);
    assert.equal(ids.includes(fixtureId), !otherTeam(caller), `${caller} sees ${ids.join(', ')}`);
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
    {
      method: 'GET',
      route: '/v1/tasks',
      url: () => '/v1/tasks?pageSize=1000',
      scope: 'read',
      allowed: 200,
      check: (response, caller) => listsFixture(response, caller, 'id'),
    },
    {
      method: 'GET',
      route: '/v1/tasks/:id',
      url: () => `/v1/tasks/${fixtureId}`,
      scope: 'read',
      allowed: 200,
      otherTeam: 404,
    },
    {
      method: 'GET',
      route: '/v1/tasks/:id/runs',
      url: () => `/v1/tasks/${fixtureId}/runs`,
      scope: 'read',
      allowed: 200,
      otherTeam: 404,
    },
    {
      method: 'GET',
      route: '/v1/tasks/:id/ledger',
      url: () => `/v1/tasks/${fixtureId}/ledger`,
      scope: 'read',
      allowed: 200,
      otherTeam: 404,
    },
    {
      method: 'GET',
      route: '/v1/tasks/:id/explain',
      url: () => `/v1/tasks/${fixtureId}/explain?at=2026-01-01T00:00:00Z`,
      scope: 'read',
      allowed: 200,
      otherTeam: 404,
    },
    {
      method: 'GET',
      route: '/v1/runs/:workflowId',
      // A one-off job's run carries no tags: no team's.
      url: () => `/v1/runs/${job.workflowId}`,
      scope: 'read',
      allowed: 200,
      inTeam: 404,
    },
    {
      method: 'GET',
      route: '/v1/jobs/:jobId',
      url: () => `/v1/jobs/${job.jobId}`,
      scope: 'read',
      allowed: 200,
      inTeam: 403,
    },
    {
      method: 'GET',
      route: '/v1/dead-letters',
      url: () => `/v1/dead-letters?taskId=${fixtureId}`,
      scope: 'read',
      allowed: 200,
    },
    {
      method: 'POST',
      route: '/v1/runs/:workflowId/retry',
      // The job's run succeeded: not a dead letter.
      url: () => `/v1/runs/${job.workflowId}/retry`,
      body: () => ({}),
      scope: 'write',
      allowed: 409,
      inTeam: 404,
    },
    {
      method: 'POST',
      route: '/v1/dead-letters/retry',
      url: () => '/v1/dead-letters/retry',
      body: () => ({ filter: { taskId: missingId } }),
      scope: 'write',
      allowed: 200,
    },
    {
      method: 'POST',
      route: '/v1/dead-letters/resolve',
      url: () => '/v1/dead-letters/resolve',
      body: () => ({ filter: { taskId: missingId }, note: 'matrix' }),
      scope: 'write',
      allowed: 200,
    },
    {
      method: 'POST',
      route: '/v1/runs/:workflowId/resolve',
      url: () => `/v1/runs/${missingId}/resolve`,
      body: () => ({ note: 'matrix' }),
      scope: 'write',
      allowed: 404,
    },
    {
      method: 'GET',
      route: '/v1/audit',
      url: () => `/v1/audit?taskId=${fixtureId}`,
      scope: 'read',
      allowed: 200,
      check: (response, caller) => listsFixture(response, caller, 'taskId'),
    },
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
      otherTeam: 404,
    },
    // Write: ids that do not exist (404) or requests that change nothing.
    {
      method: 'POST',
      route: '/v1/tasks',
      url: () => '/v1/tasks',
      body: () => fixture,
      scope: 'write',
      allowed: 409,
      otherTeam: 403,
    },
    {
      method: 'PUT',
      route: '/v1/tasks/:id',
      url: () => `/v1/tasks/${fixtureId}`,
      body: () => fixture,
      scope: 'write',
      allowed: 200,
      otherTeam: 403,
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
    {
      method: 'POST',
      route: '/v1/jobs',
      url: () => '/v1/jobs',
      body: () => jobBody,
      scope: 'write',
      allowed: 202,
      inTeam: 403,
    },
    {
      method: 'POST',
      route: '/v1/apply',
      url: () => '/v1/apply',
      body: () => ({ tasks: [] }),
      scope: 'write',
      allowed: 200,
    },
    {
      method: 'GET',
      route: '/v1/silences',
      url: () => '/v1/silences',
      scope: 'read',
      allowed: 200,
      // A team sees its own team's silences only; the others see every one.
      check: (response, caller) => {
        const scopes = response
          .json<{ items: { match: { scope?: { team: string[] } } }[] }>()
          .items.map((silence) => silence.match.scope?.team.join() ?? 'none');
        if (inTeam(caller) || otherTeam(caller))
          assert.ok(
            scopes.every((team) => `team=${team}` === teamOf(caller)),
            `${caller}: ${scopes.join(' ')}`,
          );
      },
    },
    {
      method: 'POST',
      route: '/v1/silences',
      url: () => '/v1/silences',
      body: () => ({ match: { taskId: missingId }, endsAt: iso(3_600_000), reason: 'auth matrix' }),
      scope: 'write',
      allowed: 201,
    },
    { method: 'GET', route: '/v1/alerts', url: () => '/v1/alerts', scope: 'read', allowed: 200 },
    { method: 'GET', route: '/v1/groups', url: () => '/v1/groups', scope: 'read', allowed: 200 },
    { method: 'GET', route: '/v1/circuits', url: () => '/v1/circuits', scope: 'read', allowed: 200 },
    {
      method: 'POST',
      route: '/v1/alerts/:id/ack',
      url: () => '/v1/alerts/00000000-0000-4000-8000-000000000000/ack',
      body: () => ({ note: 'matrix' }),
      scope: 'write',
      allowed: 404,
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
    const header = authorization[caller]();
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
    idp = await IdentityProvider.start();
    jwts['jwt-read'] = await idp.token({ audience: JWT_AUDIENCE, sub: 'jwt-auditor', roles: ['read'] });
    jwts['jwt-write'] = await idp.token({ audience: JWT_AUDIENCE, sub: 'jwt-deployer', roles: ['write'] });
    jwts['jwt-none'] = await idp.token({ audience: JWT_AUDIENCE, sub: 'jwt-stranger', roles: ['billing'] });
    for (const team of ['erp', 'crm'] as const)
      jwts[`jwt-${team}`] = await idp.token({
        audience: JWT_AUDIENCE,
        sub: `jwt-${team}-ops`,
        roles: ['write'],
        surecron_scope: [`team=${team}`],
      });
    client = await testClient();
    const taskQueue = uniqueId('tq-matrix');
    worker = await runTestWorker({ taskQueue });
    app = await buildApp({
      service: new TaskService(client, testStore(client, taskQueue)),
      rules: testRules('127.0.0.1,localhost'),
      logger: quietLogger,
      apiToken: ADMIN,
      namedTokens: `deployer:${WRITER}:write, auditor:${READER}:read, erp-deployer:${ERP}:write:team=erp, crm-deployer:${CRM}:write:team=crm`,
      jwt: new JwtVerifier({
        issuer: idp.issuer,
        audience: JWT_AUDIENCE,
        rolesClaim: 'roles',
        scopeClaim: 'surecron_scope',
        algorithms: ['RS256'],
        clockToleranceSeconds: 30,
      }),
      readiness: async () => Promise.resolve({ ready: true, checks: { temporal: 'ok', worker: 'ok' } }),
    });
    const auth = { authorization: `Bearer ${ADMIN}` };
    const createdFixture = await app.inject({ method: 'POST', url: '/v1/tasks', headers: auth, payload: fixture });
    assert.equal(createdFixture.statusCode, 201, createdFixture.body);
    const submitted = await app.inject({ method: 'POST', url: '/v1/jobs', headers: auth, payload: jobBody });
    assert.equal(submitted.statusCode, 202, submitted.body);
    job = submitted.json();
    await client.workflow.getHandle(job.workflowId).result();
    // The lists the matrix checks are read from visibility: wait until they show the fixture.
    for (const url of ['/v1/tasks?pageSize=1000', `/v1/audit?taskId=${fixtureId}`])
      await waitFor(
        async () => {
          const listed = await app.inject({ method: 'GET', url, headers: auth });
          return listed.body.includes(`"${fixtureId}"`) || undefined;
        },
        15_000,
        `the fixture in ${url}`,
      );
  });

  after(async () => {
    await deleteSchedules(client, [fixtureId]);
    await worker.stop();
    await app.close();
    await client.connection.close();
    await idp.close();
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

  for (const caller of callers) {
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
                    detail: forbiddenDetail(caller, route, fixtureId),
                  },
            );
          }
          if (route.method !== 'HEAD' && status === route.allowed) route.check?.(response, caller);
          if (route.method === 'HEAD') assert.equal(response.body, '');
        });
      }
    });
  }

  it("a JWT caller's change is audited under the token's subject", async () => {
    const id = uniqueId('matrix-jwt');
    const created = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { authorization: authorization['jwt-write']() as string },
      payload: { ...fixture, id },
    });
    assert.equal(created.statusCode, 201, created.body);
    try {
      const entries = await waitFor(
        async () => {
          const audit = await app.inject({
            method: 'GET',
            url: `/v1/audit?taskId=${id}`,
            headers: { authorization: `Bearer ${ADMIN}` },
          });
          const items = audit.json<{ items: { actor: string; action: string; taskId: string }[] }>().items;
          return items.length ? items : undefined;
        },
        15_000,
        'the audit entry of the JWT create',
      );
      assert.deepEqual(
        entries.map((entry) => [entry.action, entry.actor, entry.taskId]),
        [['create', 'jwt-deployer', id]],
      );
    } finally {
      await deleteSchedules(client, [id]);
    }
  });

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
      assert.ok(actors.has('admin') && actors.has('deployer') && actors.has('jwt-deployer'), [...actors].join(', '));
      // The fixture's team changed it too (an unchanged PUT is audited); the other team never reached it.
      assert.ok(actors.has('erp-deployer') && actors.has('jwt-erp-ops'), [...actors].join(', '));
      const writers = ['admin', 'deployer', 'jwt-deployer', 'erp-deployer', 'jwt-erp-ops'];
      for (const actor of actors) assert.ok(writers.includes(actor), actor);
    });
  });

  it('no response body ever contains a token or a stack trace', () => {
    assert.ok(bodies.length >= allRoutes.length * 5, `${bodies.length} responses`);
    for (const { label, body } of bodies) {
      for (const token of [...TOKENS, ...Object.values(jwts)])
        assert.ok(!body.includes(token), `${label} leaks a token`);
      assert.doesNotMatch(body, /\bat .*\.ts:\d+|\n\s+at\s/, label);
    }
  });
});
