import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { createWatchdogActivities } from '../../src/activities/watchdog.js';
import type { DeliverAlertInput } from '../../src/contract/alert.js';
import { taskLedger } from '../../src/runs/ledger.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';

const TOKEN = 'dead-letter-admin-token-0123';
const alert = (alerts: DeliverAlertInput[], taskId: string) => alerts.find((a) => a.alert.taskId === taskId);
type DeadLetter = Run & { taskId: string; errorType?: string };

/**
 * Dead letters on the real dev server: two tasks whose handler fails for good fire a few times; the list finds
 * their failed runs across tasks (and by task, tag, error type); a resolve takes one off the list; a retry runs a
 * fire again under the same workflow id, nominal time and idempotency key, and the ledger shows both tries.
 */
describe('dead letters: list, resolve, retry', () => {
  let client: Client;
  let worker: RunningWorker;
  let app: TestApp;
  let service: TaskService;
  const taskQueue = uniqueId('tq-dead');
  const ids = { a: uniqueId('dead-a'), b: uniqueId('dead-b') };
  const keys: string[] = [];
  let from = 0;

  const request = async (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload ? { payload } : {}) });
  const deadLetters = async (query: string): Promise<DeadLetter[]> => {
    const response = await request('GET', `/v1/dead-letters?${query}`);
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ items: DeadLetter[] }>().items;
  };
  const spec = (id: string, name: string, extra: Partial<TaskSpecInput> = {}) =>
    taskSpecSchema.parse({
      id,
      schedule: { every: '2s' },
      handler: { type: 'function', name },
      retry: { maxAttempts: 1 },
      ...extra,
    });

  before(async () => {
    client = await testClient();
    worker = await runTestWorker({
      taskQueue,
      handlers: {
        upstream: async () => {
          const error = new Error('upstream answered 503');
          error.name = 'UpstreamError';
          return Promise.reject(error);
        },
        fine: async (_input, ctx) => Promise.resolve({ key: ctx.idempotencyKey }),
      },
    });
    service = new TaskService(client, testStore(client, taskQueue));
    app = await testApp(service, TOKEN);
    from = Date.now();
    await service.change({
      action: 'create',
      taskId: ids.a,
      actor: 'test',
      source: 'api',
      spec: spec(ids.a, 'upstream'),
    });
    await service.change({
      action: 'create',
      taskId: ids.b,
      actor: 'test',
      source: 'api',
      spec: spec(ids.b, 'upstream', { tags: { team: 'erp' } }),
    });
    // Two failed fires of a, one of b; then both pause.
    await waitFor(
      async () => {
        const failed = (id: string) => listRuns(client, id, { status: 'failed', includeErrors: false });
        const [a, b] = await Promise.all([failed(ids.a), failed(ids.b)]);
        return a.items.length >= 2 && b.items.length >= 1 ? true : undefined;
      },
      30_000,
      'failed runs of both tasks',
    );
    for (const id of Object.values(ids))
      await service.change({ action: 'pause', taskId: id, actor: 'test', source: 'api' });
    // A run started just before the pause finishes (and fails) too.
    await waitFor(
      async () =>
        (await Promise.all(Object.values(ids).map((id) => listRuns(client, id, { status: 'running' })))).every(
          (page) => page.items.length === 0,
        ) || undefined,
      15_000,
      'no run still going',
    );
  });

  after(async () => {
    await deleteSchedules(client, Object.values(ids));
    await app.close();
    await worker.stop();
    await client.connection.close();
  });

  it('lists the failed runs across tasks, the latest failure first, with their task and error type', async () => {
    const all = await waitFor(
      async () => {
        const items = (await deadLetters('pageSize=100')).filter((d) => Object.values(ids).includes(d.taskId));
        return items.length >= 3 ? items : undefined;
      },
      15_000,
      'the dead letters in visibility',
    );
    for (const item of all) {
      assert.equal(item.status, 'failed');
      assert.equal(item.errorType, 'UpstreamError');
      assert.match(item.error ?? '', /upstream answered 503/);
      assert.equal(item.workflowId, `${item.taskId}-${item.nominalTime}`);
      keys.push(item.workflowId);
    }
    const closes = all.map((d) => Date.parse(d.closedAt ?? ''));
    assert.deepEqual(
      closes,
      [...closes].sort((x, y) => y - x),
      'the latest failure first',
    );
  });

  it('the watchdog alerts dead_letter_unresolved per task past the configured age, and not before it', async () => {
    const store = testStore(client, taskQueue);
    const aged = await createWatchdogActivities({ client, store, deadLetterAlertAfterMs: 1 }).inspectTasks({});
    const unresolved = aged.filter((a) => a.alert.event === 'dead_letter_unresolved');
    const letters = await deadLetters('pageSize=100');
    assert.deepEqual(unresolved.map((a) => a.alert.taskId).sort(), Object.values(ids).sort());
    for (const alert of unresolved) {
      const own = letters.filter((d) => d.taskId === alert.alert.taskId);
      assert.equal(alert.alert.details.count, own.length);
      assert.equal(alert.alert.details.oldestNominalTime, own.at(-1)?.nominalTime);
      assert.match(alert.alert.summary, /dead letter\(s\) nobody retried or resolved/);
    }
    assert.deepEqual(alert(unresolved, ids.b)?.tags, ['team=erp']);
    const young = await createWatchdogActivities({ client, store, deadLetterAlertAfterMs: 3_600_000 }).inspectTasks({});
    assert.ok(!young.some((a) => a.alert.event === 'dead_letter_unresolved'));
  });

  it('filters by task, tag, error type and nominal time', async () => {
    const a = await deadLetters(`taskId=${ids.a}`);
    assert.ok(a.length >= 2 && a.every((d) => d.taskId === ids.a));
    const erp = await deadLetters('tag=team%3Derp');
    assert.ok(erp.length >= 1 && erp.every((d) => d.taskId === ids.b), JSON.stringify(erp));
    assert.deepEqual(await deadLetters(`taskId=${ids.a}&errorType=TimeoutError`), []);
    assert.equal((await deadLetters(`taskId=${ids.a}&errorType=UpstreamError`)).length, a.length);
    const oldest = a.at(-1) as DeadLetter;
    const windowed = await deadLetters(
      `taskId=${ids.a}&from=${encodeURIComponent(oldest.nominalTime)}&to=${encodeURIComponent(new Date(Date.parse(oldest.nominalTime) + 1000).toISOString())}`,
    );
    assert.deepEqual(
      windowed.map((d) => d.workflowId),
      [oldest.workflowId],
    );
  });

  it('resolve: audited with its note, the run leaves the list, a second resolve is 409', async () => {
    const [, older] = await deadLetters(`taskId=${ids.a}`);
    assert.ok(older);
    const resolved = await request('POST', `/v1/runs/${older.workflowId}/resolve`, { note: 'refunded by hand' });
    assert.equal(resolved.statusCode, 200, resolved.body);
    assert.deepEqual(resolved.json(), {
      taskId: ids.a,
      resolved: { workflowId: older.workflowId, runId: older.runId },
      note: 'refunded by hand',
    });
    await waitFor(
      async () =>
        (await deadLetters(`taskId=${ids.a}`)).some((d) => d.workflowId === older.workflowId) ? undefined : true,
      15_000,
      'the resolved run off the list',
    );
    const again = await request('POST', `/v1/runs/${older.workflowId}/resolve`, { note: 'twice' });
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.json<{ detail: string }>().detail, /not a dead letter: it was resolved/);
    const audit = await request('GET', `/v1/audit?taskId=${ids.a}`);
    const entries = audit.json<{ items: { action: string; actor: string; after?: { note?: string } }[] }>().items;
    const entry = entries.find((e) => e.action === 'resolve');
    assert.equal(entry?.actor, 'admin');
    assert.equal(entry?.after?.note, 'refunded by hand');
  });

  it('retry with the current spec: same workflow id, nominal time and key; the ledger shows both tries', async () => {
    const [newest] = await deadLetters(`taskId=${ids.a}`);
    assert.ok(newest);
    await service.change({
      action: 'update',
      taskId: ids.a,
      actor: 'test',
      source: 'api',
      spec: spec(ids.a, 'fine', { paused: true }),
    });
    const retried = await request('POST', `/v1/runs/${newest.workflowId}/retry`, {});
    assert.equal(retried.statusCode, 202, retried.body);
    const body = retried.json<{
      taskId: string;
      retried: { runId: string };
      run: { workflowId: string; runId: string };
    }>();
    assert.equal(body.run.workflowId, newest.workflowId, 'the same fire');
    assert.notEqual(body.run.runId, newest.runId, 'a new try');
    const result = (await client.workflow.getHandle(newest.workflowId, body.run.runId).result()) as {
      nominalTime: string;
      idempotencyKey: string;
      result: { key: string };
    };
    assert.equal(result.nominalTime, newest.nominalTime);
    assert.equal(result.idempotencyKey, `${ids.a}@${newest.nominalTime}`);
    assert.equal(result.result.key, result.idempotencyKey, 'the handler saw the fire’s own key');

    await waitFor(
      async () =>
        (await deadLetters(`taskId=${ids.a}`)).some((d) => d.workflowId === newest.workflowId) ? undefined : true,
      15_000,
      'the retried fire off the list',
    );
    const nominal = Date.parse(newest.nominalTime);
    const ledger = await taskLedger(client, ids.a, new Date(from - 2000), new Date(nominal + 1000));
    const item = ledger.items.find((i) => i.nominalTime === newest.nominalTime);
    assert.equal(item?.outcome, 'succeeded');
    assert.deepEqual(
      item?.tries?.map((t) => [t.runId, t.status, t.trigger]),
      [
        [newest.runId, 'failed', 'schedule'],
        [body.run.runId, 'succeeded', 'retry'],
      ],
    );
    assert.equal(ledger.summary.duplicates, 0, 'a retry is a try of the fire, not a duplicate');
    const audit = await request('GET', `/v1/audit?taskId=${ids.a}`);
    assert.ok(audit.json<{ items: { action: string }[] }>().items.some((e) => e.action === 'retry'));

    const twice = await request('POST', `/v1/runs/${newest.workflowId}/retry`, { runId: newest.runId });
    assert.equal(twice.statusCode, 409, twice.body);
  });

  it('retry with the original spec runs the failed run’s own input (here: fails again, and stays a dead letter)', async () => {
    const [letter] = await deadLetters(`taskId=${ids.b}`);
    assert.ok(letter);
    const retried = await request('POST', `/v1/runs/${letter.workflowId}/retry`, { spec: 'original' });
    assert.equal(retried.statusCode, 202, retried.body);
    const { run } = retried.json<{ run: { runId: string } }>();
    await client.workflow
      .getHandle(letter.workflowId, run.runId)
      .result()
      .catch(() => undefined);
    const again = await waitFor(
      async () =>
        (await deadLetters(`taskId=${ids.b}`)).find((d) => d.workflowId === letter.workflowId && d.runId === run.runId),
      15_000,
      'the retry listed as the dead letter of its fire',
    );
    assert.equal(again.trigger, 'retry');
    assert.equal(again.nominalTime, letter.nominalTime);
  });

  it('bulk: resolve every dead letter of a filter, each audited; an empty filter is refused', async () => {
    const before = await deadLetters(`taskId=${ids.b}`);
    assert.ok(before.length >= 1);
    const refused = await request('POST', '/v1/dead-letters/resolve', { filter: {}, note: 'all of them' });
    assert.equal(refused.statusCode, 400, refused.body);
    const response = await request('POST', '/v1/dead-letters/resolve', {
      filter: { tag: 'team=erp', errorType: 'UpstreamError' },
      note: 'erp replayed the batch',
    });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), { selected: before.length, done: before.length, failed: [], more: false });
    await waitFor(
      async () => ((await deadLetters(`taskId=${ids.b}`)).length === 0 ? true : undefined),
      15_000,
      'every erp dead letter resolved',
    );
    const audit = await request('GET', `/v1/audit?taskId=${ids.b}`);
    const resolves = audit.json<{ items: { action: string }[] }>().items.filter((e) => e.action === 'resolve');
    assert.equal(resolves.length, before.length, 'one audit entry per resolved run');
  });

  it('bad input: unknown run 404, bad run id or spec 400, all problem+json', async () => {
    const unknown = await request('POST', '/v1/runs/no-such-run/retry', {});
    assert.equal(unknown.statusCode, 404, unknown.body);
    assert.match(String(unknown.headers['content-type']), /^application\/problem\+json/);
    const badId = await request('POST', `/v1/runs/${keys[0]}/retry`, { runId: 'nope' });
    assert.equal(badId.statusCode, 400, badId.body);
    const badSpec = await request('POST', `/v1/runs/${keys[0]}/retry`, { spec: 'newest' });
    assert.equal(badSpec.statusCode, 400, badSpec.body);
    const noNote = await request('POST', `/v1/runs/${keys[0]}/resolve`, {});
    assert.equal(noNote.statusCode, 400, noNote.body);
    const badTag = await request('GET', '/v1/dead-letters?tag=team');
    assert.equal(badTag.statusCode, 400, badTag.body);
  });
});
