/**
 * `POST /v1/simulate` on a real app (buildApp) against the test dev server, with stored tasks in the store, and
 * `surecron simulate` (the CLI as a subprocess) against the same app listening on a free port.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { TaskService } from '../../src/tasks/service.js';
import type { SimulationResult } from '../../src/tasks/simulate.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { spawnProcess } from '../helpers/processes.js';
import { testRules } from '../helpers/rules.js';
import { deleteSchedules } from '../helpers/teardown.js';
import { quietLogger, testAddress, testClient, testStore, uniqueId } from '../helpers/temporal.js';
import { tasks as declaredTasks } from '../../src/user/tasks.js';

const ADMIN = 'simulate-admin-token-0123456789';
const FROM = '2027-01-01T00:00:00Z';
const TO = '2028-01-01T00:00:00Z';

type App = Awaited<ReturnType<typeof buildApp>>;

const crowd = (count: number, prefix: string): TaskSpecInput[] =>
  Array.from({ length: count }, (_, i) => ({
    id: `${prefix}-${i}`,
    schedule: { cron: '0 9 * * *' },
    handler: { type: 'function', name: 'heartbeat' },
  }));

describe('POST /v1/simulate and surecron simulate', () => {
  let client: Client;
  let app: App;
  let url: string;
  const taskQueue = uniqueId('tq-simulate');
  const berlinId = uniqueId('simulate.berlin');
  const pausedId = uniqueId('simulate.paused');
  const dir = mkdtempSync(join(tmpdir(), 'surecron-simulate-'));

  async function post(body: unknown): Promise<LightMyRequestResponse> {
    return app.inject({
      method: 'POST',
      url: '/v1/simulate',
      headers: { authorization: `Bearer ${ADMIN}` },
      payload: body as Record<string, unknown>,
    });
  }

  function problem(response: LightMyRequestResponse, status: number, slug: string) {
    assert.equal(response.statusCode, status, response.body);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const body = response.json<{ type: string; errors?: { path: string; message: string }[] }>();
    assert.equal(body.type, `https://surecron.dev/problems/${slug}`);
    return body;
  }

  before(async () => {
    client = await testClient();
    const store = testStore(client, taskQueue);
    // Stored without a worker (the store itself, not the audited path): only their specs matter here.
    await store.create(
      taskSpecSchema.parse({
        id: berlinId,
        schedule: { cron: '30 2 * * *', timezone: 'Europe/Berlin' },
        handler: { type: 'function', name: 'heartbeat' },
      }),
      'api',
    );
    await store.create(
      taskSpecSchema.parse({
        id: pausedId,
        schedule: { cron: '0 9 * * *' },
        handler: { type: 'function', name: 'heartbeat' },
        paused: true,
      }),
      'api',
    );
    app = await buildApp({
      service: new TaskService(client, store),
      rules: testRules(),
      logger: quietLogger,
      apiToken: ADMIN,
      readiness: async () => Promise.resolve({ ready: true, checks: { temporal: 'ok', worker: 'ok' } }),
      clusterStartRate: 200,
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app.close();
    await deleteSchedules(client, [berlinId, pausedId]);
    await client.connection.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a crowd of 500 given tasks on one second, with stored tasks, and verifies its suggestion', async () => {
    const response = await post({
      tasks: crowd(500, 'crowd'),
      taskIds: [berlinId, pausedId],
      from: FROM,
      to: TO,
      startRate: 33,
    });
    assert.equal(response.statusCode, 200, response.body);
    const body = response.json<SimulationResult>();
    assert.equal(body.tasks.length, 502);
    assert.equal(body.startRate, 33);
    assert.deepEqual(
      body.rates.map((rate) => [rate.name, rate.startRate, rate.crowdedSeconds]),
      [
        ['requested', 33, 365],
        ['cluster', 200, 365],
        ['embedded', 33, 365],
      ],
    );
    assert.equal(body.crowdedSeconds, 365);
    // The paused stored task fires nothing: 500, not 501.
    assert.equal(body.peak.firesPerSecond, 500);
    assert.equal(body.crowds[0]?.at, '2027-01-01T09:00:00Z');
    assert.equal(body.crowds[0]?.tasks, 500);
    const berlin = body.tasks.find((task) => task.id === berlinId);
    assert.equal(berlin?.fires, 365);
    assert.deepEqual(berlin?.dst, { gap: 1, repeat: 1, shift: 1, skip: 0, once: 1, twice: 0 });
    assert.equal(body.tasks.find((task) => task.id === pausedId)?.paused, true);
    assert.equal(body.suggestions.length, 500);
    assert.equal(body.suggestions[0]?.jitter, '30s');
    assert.equal(body.verification?.resolved, true);
    assert.equal(body.verification?.crowdedSeconds, 0);
    // Applying the suggestions and simulating again: no crowd.
    const suggested = new Map(body.suggestions.map((s) => [s.taskId, s.schedule]));
    const fixed = crowd(500, 'crowd').map((task) => ({ ...task, schedule: suggested.get(task.id) ?? task.schedule }));
    const again = (await post({ tasks: fixed, from: FROM, to: TO })).json<SimulationResult>();
    assert.equal(again.startRate, 200, 'without startRate the configured cluster rate is the target');
    assert.deepEqual(
      again.rates.map((rate) => rate.crowdedSeconds),
      [0, 0],
    );
  });

  it('answers problem+json for unknown task ids, bad windows and invalid tasks', async () => {
    const missing = uniqueId('simulate.missing');
    const notFound = problem(await post({ taskIds: [missing], from: FROM, to: TO }), 404, 'not-found');
    assert.match(JSON.stringify(notFound), new RegExp(missing));
    const tooLong = problem(
      await post({ taskIds: [berlinId], from: FROM, to: '2037-01-03T00:00:00Z' }),
      400,
      'validation',
    );
    assert.match(JSON.stringify(tooLong.errors), /body\.to.*10 years/);
    problem(await post({ taskIds: [berlinId], from: TO, to: FROM }), 400, 'validation');
    problem(await post({ from: FROM, to: TO }), 400, 'validation');
    problem(await post({ taskIds: [berlinId], from: FROM, to: TO, startRate: 0 }), 400, 'validation');
    const invalid = problem(
      await post({
        tasks: [{ id: 'bad', schedule: { cron: '0 9 * * *' }, handler: { type: 'function', name: 'nope' } }],
        from: FROM,
        to: TO,
      }),
      400,
      'validation',
    );
    assert.deepEqual(
      invalid.errors?.map((issue) => issue.path),
      ['tasks.0.handler.name'],
    );
    const twice = problem(
      await post({ tasks: crowd(1, 'dup').concat(crowd(1, 'dup')), from: FROM, to: TO }),
      400,
      'validation',
    );
    assert.deepEqual(
      twice.errors?.map((issue) => issue.path),
      ['tasks.1.id'],
    );
    // Exactly 10 years (3653 days) is allowed.
    const decade = await post({ taskIds: [berlinId], from: FROM, to: '2036-12-31T00:00:00Z' });
    assert.equal(decade.statusCode, 200, decade.body);
    assert.equal(decade.json<SimulationResult>().tasks[0]?.dstEventCount, 20);
  });

  it('is documented in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    }>();
    const operation = doc.paths['/v1/simulate']?.post;
    assert.ok(operation, Object.keys(doc.paths).join(', '));
    assert.match(JSON.stringify(operation.requestBody), /taskIds/);
    assert.match(JSON.stringify(operation.requestBody), /startRate/);
  });

  it('surecron simulate -f … --task …: the table and the verified suggestion; --json the body', async () => {
    const file = join(dir, 'crowd.json');
    writeFileSync(file, JSON.stringify(crowd(500, 'cli')));
    const cli = (args: string[]) =>
      spawnProcess(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        env: { SURECRON_URL: url, SURECRON_TOKEN: ADMIN, NO_COLOR: '1' },
      });
    const human = cli(['simulate', '-f', file, '--task', berlinId, '--from', FROM, '--to', TO, '--start-rate', '33']);
    assert.equal(await human.closed, 0, human.stderr());
    const text = human.stdout();
    assert.match(text, /501 tasks, \d+ fires from 2027-01-01T00:00:00Z to 2028-01-01T00:00:00Z; peak 500 starts\/s/);
    assert.match(text, /requested start rate 33\/s .*: 365 crowded seconds/);
    assert.match(text, new RegExp(`${berlinId}\\s+2\\s+1\\s+0\\s+1\\s+0`));
    assert.match(text, /cli-0\s+30s/);
    assert.match(text, /verified: with the suggestions applied, no second is crowded/);
    const json = cli(['simulate', '--task', berlinId, '--from', FROM, '--days', '365', '--json']);
    assert.equal(await json.closed, 0, json.stderr());
    const body = JSON.parse(json.stdout()) as SimulationResult;
    assert.equal(body.to, TO);
    assert.equal(body.tasks[0]?.fires, 365);
    assert.deepEqual(body.suggestions, []);
    const usage = cli(['simulate', '--from', FROM]);
    assert.equal(await usage.closed, 2);
    assert.match(usage.stderr(), /needs -f <task file> or --task <id>/);
  });

  it('npm run apply -- --dry-run: what would change and the simulation of the result, nothing written', async () => {
    const apply = spawnProcess(process.execPath, ['--import', 'tsx', 'src/apply.ts', '--dry-run', '--days', '30'], {
      env: {
        TEMPORAL_ADDRESS: testAddress(),
        SURECRON_TASK_QUEUE: taskQueue,
        SURECRON_LOG_FORMAT: 'json',
        SURECRON_LOG_LEVEL: 'info',
      },
    });
    assert.equal(await apply.closed, 0, apply.stderr());
    const line = apply
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((text) => JSON.parse(text) as { msg?: string; created?: string[]; simulation?: SimulationResult })
      .find((entry) => entry.msg === 'dry run: nothing applied');
    assert.ok(line?.simulation, apply.stdout());
    const declaredIds = declaredTasks.map((task) => task.id).sort();
    assert.deepEqual(line.created?.sort(), declaredIds);
    // The simulation covers the declared tasks and the stored ones; its task list shows the changed ones.
    assert.deepEqual(line.simulation.tasks.map((task) => task.id).sort(), declaredIds);
    assert.ok(line.simulation.totalFires > 0);
    assert.equal(typeof line.simulation.crowdedSeconds, 'number');
    // Nothing was written.
    const store = testStore(client, taskQueue);
    for (const id of declaredIds) await assert.rejects(store.get(id), /not found/);
  });
});
