import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { HTTPMethods } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { TaskService } from '../../src/tasks/service.js';
import type { TaskSpecInput } from '../../src/tasks/spec.js';
import { testRules } from '../helpers/rules.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { quietLogger, testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';

const handlers = { fails: async () => Promise.reject(new Error('downstream refused')) };
const TOKENS = {
  admin: 'scopes-admin-token-0123456789',
  erp: 'scopes-erp-write-token-7a3c',
  crm: 'scopes-crm-write-token-51be',
  both: 'scopes-both-read-token-d2f0',
};
type Caller = keyof typeof TOKENS;

/**
 * Team scopes on the real dev server: tokens limited to `team=erp`, to `team=crm`, and to either (read), against
 * tasks of both teams and an untagged one. Each team lists, reads, changes, triggers and explains only its own tasks,
 * sees only their runs, audit entries and dead letters, applies and prunes within its scope, and silences only its
 * own alerts; another team's task answers as one that does not exist.
 */
describe('team scopes: a token limited to tags reaches only its team', () => {
  let client: Client;
  let worker: RunningWorker;
  let app: Awaited<ReturnType<typeof buildApp>>;
  const taskQueue = uniqueId('tq-ts');
  const ids = {
    erp: uniqueId('ts-erp'),
    crm: uniqueId('ts-crm'),
    untagged: uniqueId('ts-none'),
    erpNew: uniqueId('ts-erp-new'),
    erpStale: uniqueId('ts-erp-stale'),
    erpApplied: uniqueId('ts-erp-applied'),
  };
  const runs: Partial<Record<'erp' | 'crm', string>> = {};

  const call = (caller: Caller, method: HTTPMethods, url: string, payload?: unknown) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${TOKENS[caller]}` },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const spec = (id: string, tags?: Record<string, string>, name = 'fails'): TaskSpecInput => ({
    id,
    schedule: { cron: '0 0 1 1 *' },
    handler: { type: 'function', name },
    retry: { maxAttempts: 1 },
    ...(tags ? { tags } : {}),
  });
  const taskIds = async (caller: Caller) =>
    (await call(caller, 'GET', '/v1/tasks?pageSize=1000')).json<{ items: { id: string }[] }>().items.map((t) => t.id);
  const adminTags = async (id: string) =>
    (await call('admin', 'GET', `/v1/tasks/${id}`)).json<{ spec: { tags?: Record<string, string> } }>().spec.tags;
  const notFound = (response: { statusCode: number; body: string }, what: string) => {
    assert.equal(response.statusCode, 404, `${what}: ${response.body}`);
    assert.doesNotMatch(response.body, /team|scope/, 'a 404 says nothing of the other team');
  };

  before(async () => {
    client = await testClient();
    worker = await runTestWorker({ taskQueue, handlers });
    app = await buildApp({
      service: new TaskService(client, testStore(client, taskQueue)),
      rules: testRules(undefined, handlers),
      logger: quietLogger,
      apiToken: TOKENS.admin,
      namedTokens: [
        `erp-ops:${TOKENS.erp}:write:team=erp`,
        `crm-ops:${TOKENS.crm}:write:team=crm`,
        `both-audit:${TOKENS.both}:read:team=erp;team=crm`,
      ].join(','),
      readiness: async () => Promise.resolve({ ready: true, checks: {} }),
    });
    for (const [id, tags] of [
      [ids.erp, { team: 'erp' }],
      [ids.crm, { team: 'crm' }],
      [ids.untagged, undefined],
      [ids.erpStale, { team: 'erp', tier: 'batch' }],
    ] as const) {
      const created = await call('admin', 'POST', '/v1/tasks', spec(id, tags));
      assert.equal(created.statusCode, 201, created.body);
    }
    await waitFor(
      async () => (await taskIds('admin')).filter((id) => Object.values(ids).includes(id)).length === 4 || undefined,
      15_000,
      'the four tasks in the list',
    );
  });

  after(async () => {
    await deleteSchedules(client, Object.values(ids));
    await app.close();
    await worker.stop();
    await client.connection.close();
  });

  it("lists and reads only its team's tasks; a token of two teams sees both, never the untagged one", async () => {
    const mine = (list: string[]) => list.filter((id) => Object.values(ids).includes(id)).sort();
    assert.deepEqual(mine(await taskIds('erp')), [ids.erp, ids.erpStale].sort());
    assert.deepEqual(mine(await taskIds('crm')), [ids.crm]);
    assert.deepEqual(mine(await taskIds('both')), [ids.erp, ids.crm, ids.erpStale].sort());
    assert.equal((await call('erp', 'GET', `/v1/tasks/${ids.erp}`)).statusCode, 200);
    for (const id of [ids.crm, ids.untagged]) {
      const response = await call('erp', 'GET', `/v1/tasks/${id}`);
      notFound(response, `erp reads ${id}`);
      assert.equal(response.json<{ detail: string }>().detail, `task ${id} not found`);
    }
  });

  it('creates only within its scope, and cannot move a task out of it or overwrite another team’s', async () => {
    for (const [tags, label] of [
      [{ team: 'crm' }, 'crm-tagged'],
      [undefined, 'untagged'],
    ] as const) {
      const refused = await call('erp', 'POST', '/v1/tasks', spec(ids.erpNew, tags));
      assert.equal(refused.statusCode, 403, `${label}: ${refused.body}`);
      assert.equal(
        refused.json<{ detail: string }>().detail,
        `token "erp-ops" is limited to tasks tagged team=erp; task ${ids.erpNew}'s tags are outside it`,
      );
    }
    const created = await call('erp', 'POST', '/v1/tasks', spec(ids.erpNew, { team: 'erp', owner: 'ana' }));
    assert.equal(created.statusCode, 201, created.body);
    const moved = await call('erp', 'PUT', `/v1/tasks/${ids.erpNew}`, spec(ids.erpNew, { team: 'crm' }));
    assert.equal(moved.statusCode, 403, moved.body);
    assert.deepEqual(await adminTags(ids.erpNew), { team: 'erp', owner: 'ana' }, 'the task stayed in its team');
    notFound(
      await call('erp', 'PUT', `/v1/tasks/${ids.crm}`, spec(ids.crm, { team: 'erp' })),
      "erp replaces crm's task",
    );
    assert.deepEqual(await adminTags(ids.crm), { team: 'crm' }, "crm's task is untouched");
    const read = await call('both', 'POST', '/v1/tasks', spec(uniqueId('ts-read'), { team: 'erp' }));
    assert.equal(read.statusCode, 403, 'a read token still cannot write');
  });

  it('changes, triggers, explains and runs only its own tasks', async () => {
    for (const [method, path, body] of [
      ['POST', 'pause', { note: 'x' }],
      ['POST', 'resume', {}],
      ['POST', 'trigger', undefined],
      ['GET', 'explain?at=2027-01-01T00:00:00Z', undefined],
      ['GET', 'runs', undefined],
      ['GET', 'ledger', undefined],
      ['DELETE', '', undefined],
    ] as const) {
      const url = `/v1/tasks/${ids.crm}${path ? `/${path}` : ''}`;
      notFound(await call('erp', method, url, body), `erp ${method} ${url}`);
    }
    assert.equal((await call('admin', 'GET', `/v1/tasks/${ids.crm}`)).statusCode, 200, 'the delete did not happen');
    const simulated = await call('erp', 'POST', '/v1/simulate', {
      taskIds: [ids.crm],
      from: '2027-01-01T00:00:00Z',
      to: '2027-02-01T00:00:00Z',
    });
    notFound(simulated, "erp simulates crm's task");
    // Each team triggers its own task; both runs fail for good and become dead letters.
    for (const team of ['erp', 'crm'] as const) {
      const triggered = await call(team, 'POST', `/v1/tasks/${ids[team]}/trigger`);
      assert.equal(triggered.statusCode, 202, triggered.body);
    }
    for (const team of ['erp', 'crm'] as const) {
      const failed = await waitFor(
        async () => (await listRuns(client, ids[team], { status: 'failed' })).items[0],
        30_000,
        `the failed run of ${team}'s task`,
      );
      runs[team] = failed.workflowId;
    }
    assert.equal((await call('erp', 'GET', `/v1/runs/${runs.erp}`)).statusCode, 200);
    notFound(await call('erp', 'GET', `/v1/runs/${runs.crm}`), "erp reads crm's run");
    const own = await call('erp', 'GET', `/v1/tasks/${ids.erp}/runs`);
    assert.deepEqual(
      own.json<{ items: Run[] }>().items.map((r) => [r.workflowId, r.status]),
      [[runs.erp, 'failed']],
    );
  });

  it('sees and acts on its own dead letters only, one by one and in bulk', async () => {
    const letters = async (caller: Caller) =>
      (await call(caller, 'GET', '/v1/dead-letters?errorType=Error'))
        .json<{ items: { workflowId: string }[] }>()
        .items.map((l) => l.workflowId)
        .filter((id) => id === runs.erp || id === runs.crm);
    await waitFor(async () => (await letters('admin')).length === 2 || undefined, 15_000, 'both dead letters');
    assert.deepEqual(await letters('erp'), [runs.erp]);
    assert.deepEqual(await letters('crm'), [runs.crm]);
    notFound(
      await call('erp', 'POST', `/v1/runs/${runs.crm}/resolve`, { note: 'not mine' }),
      "erp resolves crm's dead letter",
    );
    notFound(await call('erp', 'POST', `/v1/runs/${runs.crm}/retry`, {}), "erp retries crm's dead letter");
    const bulk = await call('erp', 'POST', '/v1/dead-letters/resolve', {
      filter: { errorType: 'Error' },
      note: 'erp handled its own',
    });
    assert.equal(bulk.statusCode, 200, bulk.body);
    assert.deepEqual(bulk.json(), { selected: 1, done: 1, failed: [], more: false });
    await waitFor(async () => (await letters('admin')).length === 1 || undefined, 15_000, 'one dead letter left');
    assert.deepEqual(await letters('admin'), [runs.crm], "crm's dead letter is still there");
  });

  it("reads only its team's audit entries", async () => {
    const entries = await waitFor(
      async () => {
        const items = (await call('erp', 'GET', '/v1/audit?pageSize=1000')).json<{
          items: { taskId: string; action: string; actor: string }[];
        }>().items;
        return items.some((e) => e.action === 'resolve') ? items : undefined;
      },
      15_000,
      "erp's resolve in its audit",
    );
    const seen = new Set(entries.map((entry) => entry.taskId));
    for (const id of [ids.crm, ids.untagged]) assert.ok(!seen.has(id), `erp sees ${id}'s audit entries`);
    for (const id of [ids.erp, ids.erpNew]) assert.ok(seen.has(id), `erp misses ${id}'s audit entries`);
    const crm = (await call('crm', 'GET', `/v1/audit?taskId=${ids.erp}`)).json<{ items: unknown[] }>();
    assert.deepEqual(crm.items, []);
  });

  it("applies and prunes within its scope; another team's id is skipped", async () => {
    const applied = await call('erp', 'POST', '/v1/apply', {
      tasks: [
        spec(ids.erp, { team: 'erp' }),
        spec(ids.erpNew, { team: 'erp', owner: 'ana' }),
        spec(ids.erpApplied, { team: 'erp' }),
        spec(ids.crm, { team: 'erp' }),
      ],
      prune: true,
    });
    assert.equal(applied.statusCode, 200, applied.body);
    assert.deepEqual(applied.json(), {
      created: [ids.erpApplied],
      updated: [],
      unchanged: [ids.erp, ids.erpNew],
      deleted: [ids.erpStale],
      skipped: [{ id: ids.crm, reason: "outside the token's team scope" }],
    });
    for (const id of [ids.crm, ids.untagged])
      assert.equal((await call('admin', 'GET', `/v1/tasks/${id}`)).statusCode, 200, `${id} survived the prune`);
    const outside = await call('erp', 'POST', '/v1/apply', { tasks: [spec(uniqueId('ts-x'), { team: 'crm' })] });
    assert.equal(outside.statusCode, 403, outside.body);
  });

  it("silences only its own team's alerts and sees only its team's silences", async () => {
    const endsAt = new Date(Date.now() + 3_600_000).toISOString();
    const made = await call('erp', 'POST', '/v1/silences', { match: { severity: 'P1' }, endsAt, reason: 'erp deploy' });
    assert.equal(made.statusCode, 201, made.body);
    const silence = made.json<{ id: string; match: Record<string, unknown> }>();
    assert.deepEqual(silence.match, { severity: 'P1', scope: { team: ['erp'] } });
    const listed = async (caller: Caller) =>
      (await call(caller, 'GET', '/v1/silences')).json<{ items: { id: string }[] }>().items.map((s) => s.id);
    assert.ok((await listed('erp')).includes(silence.id));
    assert.ok((await listed('admin')).includes(silence.id));
    assert.ok(!(await listed('crm')).includes(silence.id));
    assert.ok((await listed('both')).includes(silence.id), "erp's silence is within a token of both teams");
    notFound(await call('crm', 'DELETE', `/v1/silences/${silence.id}`), "crm ends erp's silence");
    assert.equal((await call('erp', 'DELETE', `/v1/silences/${silence.id}`)).statusCode, 204);
  });
});
