import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { DeliverAlertResult, OpenAlert } from '../../src/contract/alert.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { alertReceiver, type ReceivedAlert } from '../helpers/http.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';

const SECRET = 'lifecycle-webhook-secret';
const TOKEN = 'lifecycle-admin-token-012345';
const ESCALATE_AFTER_MS = 3000;

/**
 * The life of an alert on the real dev server, delivered to real webhook receivers, one per severity route: a
 * condition the watchdog keeps finding re-alerts at the task's `reAlertEvery` under one id until someone acknowledges
 * it (`POST /v1/alerts/{id}/ack`); an alert nobody acknowledges within its severity's `escalateAfter` goes to the next
 * severity's route; one acknowledged in time does not.
 */
describe('alert lifecycle: re-alerts, acknowledgement, escalation', () => {
  let client: Client;
  let worker: RunningWorker;
  let app: TestApp;
  let service: TaskService;
  const hooks = {} as Record<'chat' | 'oncall' | 'pager', Awaited<ReturnType<typeof alertReceiver>>>;
  const taskQueue = uniqueId('tq-lifecycle');
  const ids: string[] = [];
  const runs: string[] = [];

  const api = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload ? { payload } : {}) });
  const create = async (spec: TaskSpecInput) => {
    ids.push(spec.id);
    await service.change({
      action: 'create',
      taskId: spec.id,
      actor: 'test',
      source: 'api',
      spec: taskSpecSchema.parse(spec),
    });
  };
  const trigger = async (id: string) => {
    const result = await service.change({ action: 'trigger', taskId: id, actor: 'test', source: 'api' });
    const run = (result.run as { workflowId: string }).workflowId;
    runs.push(run);
    return run;
  };
  const at = (hook: 'chat' | 'oncall' | 'pager', taskId: string): ReceivedAlert[] =>
    hooks[hook].received.filter((alert) => alert.taskId === taskId);
  /** One watchdog round, as its schedule runs it every 30 s. */
  const watchdogRound = () =>
    client.workflow.execute('watchdog', { taskQueue, workflowId: uniqueId('round'), args: [] });

  before(async () => {
    client = await testClient();
    for (const name of ['chat', 'oncall', 'pager'] as const) hooks[name] = await alertReceiver(SECRET);
    worker = await runTestWorker({
      taskQueue,
      handlers: {
        hang: async (_input, ctx) =>
          new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('stopped'))),
        fail: async () => Promise.reject(new Error('ledger service refused')),
      },
      alerts: {
        channels: (['chat', 'oncall', 'pager'] as const).map((name) => ({
          type: 'webhook' as const,
          name,
          url: hooks[name].url,
          secret: SECRET,
        })),
        routes: { P2: ['chat'], P1: ['oncall'], P0: ['pager'] },
        escalateAfter: { P1: `${ESCALATE_AFTER_MS / 1000}s` },
      },
    });
    service = new TaskService(client, testStore(client, taskQueue));
    app = await testApp(service, TOKEN);
  });

  after(async () => {
    for (const run of runs)
      await client.workflow
        .getHandle(run)
        .terminate('test over')
        .catch(() => undefined);
    await deleteSchedules(client, ids);
    await app.close();
    await worker.stop();
    await client.connection.close();
    for (const hook of Object.values(hooks)) await hook.close();
  });

  it('a persisting condition re-alerts every reAlertEvery under one id until acknowledged, then stays quiet', async () => {
    const id = uniqueId('hangs');
    await create({
      id,
      schedule: { every: '1h' },
      handler: { type: 'function', name: 'hang' },
      maxRuntime: '1s',
      alerts: { severity: 'P2', reAlertEvery: '2s' },
    });
    await trigger(id);
    await sleep(1500);
    // Watchdog rounds, back to back, until the condition has alerted twice.
    const twice = await waitFor(
      async () => {
        await watchdogRound();
        const received = at('chat', id);
        return received.length >= 2 ? received : undefined;
      },
      30_000,
      'the run_overdue alert and its re-alert',
    );
    const [first, second] = twice as [ReceivedAlert, ReceivedAlert];
    assert.equal(first.event, 'run_overdue');
    assert.match(first.id ?? '', /^[0-9a-f-]{36}$/);
    assert.equal(second.id, first.id, 'a re-alert carries the open alert’s id');
    assert.equal(first.details.repeat, undefined);
    assert.equal(second.details.repeat, true);
    assert.ok(second.at - first.at >= 1900, `re-alerted after ${second.at - first.at} ms; reAlertEvery is 2 s`);
    assert.ok(first.signed && second.signed);

    const acked = await api('POST', `/v1/alerts/${first.id}/ack`, { note: 'looking at the ledger service' });
    assert.equal(acked.statusCode, 200, acked.body);
    const ackedAlert = acked.json<OpenAlert>();
    assert.equal(ackedAlert.acknowledged?.by, 'admin');
    assert.equal(ackedAlert.acknowledged?.note, 'looking at the ledger service');
    const sentAtAck = at('chat', id).length;
    // Two more re-alert intervals of rounds: acknowledged, the condition is not sent again.
    const until = Date.now() + 4500;
    while (Date.now() < until) await watchdogRound();
    assert.equal(at('chat', id).length, sentAtAck, 'no re-alert after the acknowledgement');
    const listed = (await api('GET', '/v1/alerts')).json<{ items: OpenAlert[] }>().items.find((a) => a.id === first.id);
    assert.equal(listed?.event, 'run_overdue');
    assert.equal(listed?.sent, sentAtAck);
    assert.equal(listed?.reAlertMs, 2000);
    assert.equal(listed?.acknowledged?.by, 'admin');
    assert.ok(Date.parse(listed?.lastSeenAt ?? '') > Date.parse(listed?.acknowledged?.at ?? ''), 'still raised');
    assert.equal(at('oncall', id).length + at('pager', id).length, 0, 'P2 does not escalate here');
  });

  it("an alert nobody acknowledges goes to the next severity's route; one acknowledged in time does not", async () => {
    const [ignored, handled] = [uniqueId('ignored'), uniqueId('handled')];
    for (const id of [ignored, handled])
      await create({
        id,
        schedule: { every: '1h' },
        handler: { type: 'function', name: 'fail' },
        retry: { maxAttempts: 1 },
        alerts: { severity: 'P1' },
      });
    const workflowIds = [await trigger(ignored), await trigger(handled)];
    const raised = await waitFor(
      async () => (at('oncall', ignored).length && at('oncall', handled).length ? true : undefined),
      20_000,
      'both run_failed alerts on the P1 route',
    );
    assert.ok(raised);
    const [ignoredAlert, handledAlert] = [at('oncall', ignored)[0], at('oncall', handled)[0]] as ReceivedAlert[];
    const acked = await api('POST', `/v1/alerts/${handledAlert?.id}/ack`, {});
    assert.equal(acked.statusCode, 200, acked.body);

    const escalated = await waitFor(
      async () => at('pager', ignored)[0],
      ESCALATE_AFTER_MS + 15_000,
      'the escalation on the P0 route',
    );
    assert.equal(escalated.id, ignoredAlert?.id);
    assert.equal(escalated.severity, 'P0');
    assert.equal(escalated.details.escalatedFrom, 'P1');
    assert.equal(escalated.event, 'run_failed');
    assert.match(escalated.summary, /^not acknowledged within 3 s, escalated from P1: /);
    assert.ok(
      escalated.at - (ignoredAlert?.at ?? 0) >= ESCALATE_AFTER_MS - 100,
      `escalated after ${escalated.at - (ignoredAlert?.at ?? 0)} ms`,
    );

    const results = await Promise.all(
      workflowIds.map((run) => client.workflow.getHandle(`alert-${run}-run_failed`).result()),
    );
    const [ignoredResult, handledResult] = results as [DeliverAlertResult, DeliverAlertResult];
    assert.deepEqual(ignoredResult, {
      decision: 'send',
      id: ignoredAlert?.id,
      sent: ['oncall', 'pager'],
      failed: [],
      escalated: ['P0'],
    });
    assert.deepEqual(handledResult, { decision: 'send', id: handledAlert?.id, sent: ['oncall'], failed: [] });
    assert.equal(at('pager', handled).length, 0, 'the acknowledged alert did not escalate');
    const open = (await api('GET', '/v1/alerts')).json<{ items: OpenAlert[] }>().items;
    const ignoredOpen = open.find((a) => a.id === ignoredAlert?.id);
    assert.equal(ignoredOpen?.severity, 'P0');
    assert.deepEqual(
      ignoredOpen?.escalations.map((e) => e.to),
      ['P0'],
    );
  });

  it('acknowledging an id that is not open is 404; a malformed id or body 400, as problem+json', async () => {
    const missing = await api('POST', '/v1/alerts/00000000-0000-4000-8000-000000000000/ack', {});
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<{ detail: string }>().detail, 'no open alert 00000000-0000-4000-8000-000000000000');
    assert.equal((await api('POST', '/v1/alerts/not-an-id/ack', {})).statusCode, 400);
    for (const body of [{ note: '' }, { note: 'x'.repeat(1001) }, { by: 'someone else' }]) {
      const response = await api('POST', '/v1/alerts/00000000-0000-4000-8000-000000000000/ack', body);
      assert.equal(response.statusCode, 400, JSON.stringify(body));
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    }
  });
});
