import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { Registry } from 'prom-client';
import { CIRCUIT_STATE_QUERY, circuitWorkflowId, type CircuitState } from '../../src/contract/circuit.js';
import { createTaskMetrics } from '../../src/metrics/task-metrics.js';
import { listCircuits, toCircuitView, type CircuitView } from '../../src/runs/circuits.js';
import { explainTask } from '../../src/runs/explain.js';
import { taskLedger } from '../../src/runs/ledger.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { alertReceiver, listenLocal } from '../helpers/http.js';
import { testApp, type TestApp } from '../helpers/app.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';

const SECRET = 'circuit-webhook-secret';
const TOKEN = 'circuit-admin-token-0123456';
const OUTAGE_MS = 20_000;
const OPEN_FOR_MS = 5000;

/** A downstream that answers 503 while `failing`, and records every call: when, and whether it failed. */
async function downstream() {
  const state = { failing: false, calls: [] as { at: number; failed: boolean; key: string }[] };
  const server = createServer((req, res) => {
    state.calls.push({ at: Date.now(), failed: state.failing, key: String(req.headers['idempotency-key']) });
    req.resume();
    res.writeHead(state.failing ? 503 : 200, { 'content-type': 'application/json' }).end('{}');
  });
  return { ...(await listenLocal(server)), state };
}

describe('circuit breakers against a real server', () => {
  let client: Client;
  let worker: RunningWorker;
  let service: TaskService;
  let app: TestApp;
  let hook: Awaited<ReturnType<typeof alertReceiver>>;
  const registry = new Registry();
  const taskQueue = uniqueId('tq-circuits');
  const created: string[] = [];
  let calls = 0;
  const api = (method: 'GET' | 'POST', url: string, payload?: Record<string, unknown>) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${TOKEN}` }, ...(payload ? { payload } : {}) });
  const create = async (spec: TaskSpecInput) => {
    created.push(spec.id);
    await service.change({
      action: 'create',
      taskId: spec.id,
      actor: 'test',
      source: 'api',
      spec: taskSpecSchema.parse(spec),
    });
  };

  before(async () => {
    client = await testClient();
    hook = await alertReceiver(SECRET);
    worker = await runTestWorker({
      taskQueue,
      metrics: createTaskMetrics(registry),
      handlers: {
        erpDown: async () => {
          calls += 1;
          return Promise.reject(new Error('erp database refused the connection'));
        },
      },
      alerts: { channels: [{ type: 'webhook', name: 'ops', url: hook.url, secret: SECRET }], routes: { P1: ['ops'] } },
    });
    service = new TaskService(client, testStore(client, taskQueue));
    app = await testApp(service, TOKEN);
  });
  after(async () => {
    await deleteSchedules(client, created);
    await app.close();
    await worker.stop();
    await client.connection.close();
    await hook.close();
  });

  it(
    'a downstream failing for 20 s: the breaker opens within its window, only trials reach it, it closes after recovery, one alert each way, every fire succeeds',
    { timeout: 300_000 },
    async (t) => {
      const server = await downstream();
      const ids = [uniqueId('cb-0'), uniqueId('cb-1'), uniqueId('cb-2')];
      const key = server.origin;
      const states: { at: number; view: CircuitView }[] = [];
      const gauge: string[] = [];
      try {
        const from = new Date(Math.ceil(Date.now() / 1000) * 1000 + 1000);
        for (const id of ids) {
          await create({
            id,
            schedule: { cron: '* * * * * *' },
            handler: { type: 'http', method: 'POST', url: `${server.origin}/orders`, timeout: '5s' },
            overlap: 'allow_all',
            retry: { maxAttempts: 10, initialInterval: '500ms' },
            circuitBreaker: {},
          });
        }
        const watch = async (ms: number) => {
          const until = Date.now() + ms;
          while (Date.now() < until) {
            // The breaker itself, by id: a listing would see it only once visibility has it.
            const state = await client.workflow
              .getHandle(circuitWorkflowId(key))
              .query<CircuitState>(CIRCUIT_STATE_QUERY)
              .catch(() => undefined);
            if (state) states.push({ at: Date.now(), view: toCircuitView(state) });
            const line = (await registry.metrics()).split('\n').find((l) => l.startsWith('surecron_circuit_state{'));
            if (line) gauge.push(line);
            await sleep(250);
          }
        };
        await watch(4000);
        const healthyCalls = server.state.calls.length;
        server.state.failing = true;
        const outageAt = Date.now();
        await watch(OUTAGE_MS / 2);
        // A fire waiting for the breaker, as explain sees it.
        const going = (await listRuns(client, ids[0] as string, { pageSize: 100 })).items.filter(
          (run) => run.status === 'running',
        );
        // A fire a few seconds old has had its first attempt turned away (a newer one may still be asking).
        const newest = going
          .filter((run) => Date.parse(run.nominalTime) < Date.now() - 3000)
          .sort((a, b) => Date.parse(b.nominalTime) - Date.parse(a.nominalTime))[0];
        const waitingNow = newest
          ? await explainTask(client, service.store, ids[0] as string, new Date(newest.nominalTime))
          : undefined;
        await watch(OUTAGE_MS / 2);
        server.state.failing = false;
        const recoveredAt = Date.now();
        await watch(8000);
        const to = new Date(Date.now() - 2000);
        for (const id of ids) await service.change({ action: 'pause', taskId: id, actor: 'test', source: 'api' });
        const runs = await waitFor(
          async () => {
            const pages = await Promise.all(ids.map((id) => listRuns(client, id, { pageSize: 500 })));
            const all = pages.flatMap((page) => page.items);
            return all.length > 0 && all.every((run: Run) => run.status !== 'running') ? all : undefined;
          },
          120_000,
          'every run to close',
        );
        await sleep(3000); // a second alert, if the breaker sent one, would have arrived by now
        const alerts = hook.received.filter((alert) => alert.taskId === `circuit:${key}`);
        const failedCalls = server.state.calls.filter((call) => call.failed);
        const opened = states.find(({ view }) => view.state === 'open')?.view;
        assert.ok(opened, `the breaker opened; seen: ${JSON.stringify(states.slice(-3))}`);
        const openedAt = Date.parse(opened.since);
        const final = (await listCircuits(client, taskQueue)).find((each) => each.key === key);
        assert.equal(final?.state, 'closed');
        const closedAt = Date.parse(final.since);
        // Calls stop within the window: at most `window` (10) calls failed before it opened.
        const beforeOpen = failedCalls.filter((call) => call.at <= openedAt + 500);
        const trials = failedCalls.filter((call) => call.at > openedAt + 500);
        const gaps = trials.slice(1).map((call, i) => call.at - (trials[i] as { at: number }).at);
        const report = {
          healthyCalls,
          failedBeforeOpen: beforeOpen.length,
          trialsWhileOpen: trials.length,
          trialGapsMs: gaps,
          openReactionMs: openedAt - outageAt,
          closeReactionMs: closedAt - recoveredAt,
          runs: runs.length,
          alerts: alerts.map((alert) => `${alert.event}@${alert.at - outageAt}`),
          failedCallsAt: failedCalls.map((call) => call.at - outageAt),
          phases: states
            .filter(({ view }, i) => i === 0 || view.since !== states[i - 1]?.view.since)
            .map(({ view }) => `${view.state}@${Date.parse(view.since) - outageAt}`),
        };
        t.diagnostic(JSON.stringify(report));
        assert.ok(healthyCalls >= 6, `healthy calls: ${healthyCalls}`);
        assert.ok(beforeOpen.length >= 5 && beforeOpen.length <= 10, JSON.stringify(report));
        assert.ok(openedAt - outageAt < 5000, JSON.stringify(report));
        // Open, then half-open every 5 s: one trial per period, each failing while the outage lasts.
        assert.ok(
          trials.length >= 2 && trials.length <= Math.ceil(OUTAGE_MS / OPEN_FOR_MS) + 1,
          JSON.stringify(report),
        );
        assert.ok(
          gaps.every((gap) => gap >= OPEN_FOR_MS - 250),
          `trials at least openFor apart: ${JSON.stringify(report)}`,
        );
        // The first trial after recovery closes it: within openFor plus the waiting runs' wake-up (seconds on a
        // loaded server).
        assert.ok(closedAt - recoveredAt <= OPEN_FOR_MS + 5000, JSON.stringify(report));
        assert.ok(closedAt > recoveredAt, JSON.stringify(report));
        // One alert each way for the dependency, however many tasks call it.
        assert.deepEqual(
          alerts.map((alert) => alert.event),
          ['circuit_open', 'circuit_closed'],
        );
        assert.ok(alerts.every((alert) => alert.signed));
        assert.equal(alerts[0]?.details.key, key);
        assert.match(alerts[0]?.summary ?? '', /opened: 5 of the last \d+ calls failed \(last: HTTP 503/);
        assert.equal(final.opened, 1, 'a failed trial reopens it without counting a new opening');
        // Every fire's outcome is in the ledger: each ran and succeeded once, none missed, none doubled.
        for (const id of ids) {
          const { summary } = await taskLedger(client, id, from, to);
          assert.equal(summary.missed, 0, id);
          assert.equal(summary.duplicates, 0, id);
          assert.equal(summary.failed, 0, id);
          assert.equal(summary.succeeded, summary.expected, `${id}: ${JSON.stringify(summary)}`);
          assert.ok(summary.expected >= 25, `${id}: ${JSON.stringify(summary)}`);
        }
        const succeededKeys = server.state.calls.filter((call) => !call.failed).map((call) => call.key);
        assert.equal(
          new Set(succeededKeys).size,
          succeededKeys.length,
          'no fire called the downstream twice with success',
        );
        const waited = await Promise.all(
          runs.slice(0, 200).map(
            async (run) =>
              (await client.workflow.getHandle(run.workflowId).result()) as {
                taskId: string;
                nominalTime: string;
                circuit?: { key: string; waitedMs: number };
              },
          ),
        );
        const held = waited.find((result) => result.circuit?.key === key && result.circuit.waitedMs >= 1000);
        assert.ok(held, 'runs waited for the breaker');
        // explain says so: while waiting (late, not missed), and after the run.
        assert.equal(waitingNow?.verdict, 'running', JSON.stringify(waitingNow));
        assert.match(
          waitingNow.summary,
          new RegExp(
            `is waiting for the circuit breaker to ${key}: an attempt was turned away at .*: late, not missed`,
          ),
        );
        const explained = await explainTask(client, service.store, held.taskId, new Date(held.nominalTime));
        assert.equal(explained.verdict, 'ran');
        assert.match(
          explained.summary,
          new RegExp(`succeeded .*, with \\d+\\.\\d{3} s waiting for the circuit breaker to ${key}$`),
        );
        const holds = explained.evidence.circuit as { key: string; refusedAt: string; resumedAt?: string }[];
        assert.ok(
          holds.length >= 1 && holds.every((hold) => hold.key === key && hold.resumedAt),
          JSON.stringify(holds),
        );
        // What the API, the metric and the Web UI show.
        const listed = (await api('GET', '/v1/circuits'))
          .json<{ items: CircuitView[] }>()
          .items.find((c) => c.key === key);
        assert.equal(listed?.state, 'closed');
        assert.equal(listed?.failures, 5);
        assert.equal(listed?.window, 10);
        assert.equal(listed?.openForMs, 5000);
        assert.ok(
          gauge.some((line) => line === `surecron_circuit_state{key="${key}"} 2`),
          gauge.slice(0, 5).join(),
        );
        const after = (await registry.metrics()).split('\n').find((l) => l.startsWith('surecron_circuit_state{'));
        assert.equal(after, `surecron_circuit_state{key="${key}"} 0`);
        // The Web UI shows the breaker's summary and, as its current details, its state.
        const breaker = client.workflow.getHandle(circuitWorkflowId(key));
        assert.equal(await (await breaker.describe()).staticSummary(), `surecron circuit breaker ${key}`);
        const metadata = await breaker.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
        assert.match(
          metadata.currentDetails ?? '',
          /^\*\*closed\*\* since .*: 0 of the last \d+ calls failed \(opens at 5 of 10\)$/,
        );
      } finally {
        await client.workflow
          .getHandle(circuitWorkflowId(key))
          .terminate('test over')
          .catch(() => undefined);
        await server.close();
      }
    },
  );

  it('onOpen fail: refused attempts fail without calling; a waiting run fails at once when the breaker outlasts its total timeout', async () => {
    const key = uniqueId('erp-db');
    const failing = uniqueId('cb-fail');
    const waiting = uniqueId('cb-wait');
    try {
      const breaker = { key, failures: 2, window: 2, openFor: '60s' };
      await create({
        id: failing,
        schedule: { every: '24h' },
        handler: { type: 'function', name: 'erpDown' },
        retry: { maxAttempts: 4, initialInterval: '200ms', backoffCoefficient: 1 },
        circuitBreaker: { ...breaker, onOpen: 'fail' },
        paused: true,
      });
      await create({
        id: waiting,
        schedule: { every: '24h' },
        handler: { type: 'function', name: 'erpDown' },
        timeouts: { attempt: '4s', total: '4s' },
        circuitBreaker: breaker,
        paused: true,
      });
      const run = (id: string) =>
        service.change({ action: 'trigger', taskId: id, actor: 'test', source: 'api' }).then((result) => {
          const { workflowId } = result.run as { workflowId: string };
          return client.workflow
            .getHandle(workflowId)
            .result()
            .then(
              () => assert.fail('the run should fail'),
              (error: unknown) => error,
            );
        });
      const failed = await run(failing);
      assert.ok(failed instanceof WorkflowFailedError);
      // Two calls opened it; attempts 3 and 4 were refused without a call.
      assert.equal(calls, 2);
      assert.match(String(failed.cause?.message), /circuit to .* is open: not called/);
      const startedWaiting = Date.now();
      const timedOut = await run(waiting);
      const waitedMs = Date.now() - startedWaiting;
      assert.ok(timedOut instanceof WorkflowFailedError);
      assert.match(String(timedOut.cause?.message), /is open until .*, past the run's total timeout/);
      assert.equal(calls, 2, 'the waiting run never called');
      // Open for 60 s against a total of 4 s: no point waiting; the run fails when it learns it.
      assert.ok(waitedMs < 4000, `${waitedMs} ms`);
      const view = (await listCircuits(client, taskQueue)).find((each) => each.key === key);
      assert.equal(view?.state, 'open');
      assert.equal(view?.opened, 1);
      assert.equal(view?.calls, 2);
    } finally {
      await client.workflow
        .getHandle(circuitWorkflowId(key))
        .terminate('test over')
        .catch(() => undefined);
    }
  });

  it('refuses bad breakers with problem+json; the OpenAPI document carries the route and the fields', async () => {
    const response = await api('POST', '/v1/tasks', {
      id: uniqueId('cb-bad'),
      schedule: { cron: '* * * * *' },
      handler: { type: 'function', name: 'erpDown' },
      circuitBreaker: { failures: 20, window: 10 },
    });
    assert.equal(response.statusCode, 400);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const body = response.json<{ errors: { path: string; message: string }[] }>();
    assert.deepEqual(body.errors.map((error) => error.path).sort(), [
      'body.circuitBreaker.failures',
      'body.circuitBreaker.key',
    ]);
    const job = await api('POST', '/v1/jobs', {
      handler: { type: 'workflow', name: 'syncOrders' },
      idempotencyKey: uniqueId('cb-job'),
      circuitBreaker: { key: 'erp-db' },
    });
    assert.equal(job.statusCode, 400);
    assert.match(String(job.headers['content-type']), /^application\/problem\+json/);
    assert.match(job.body, /a circuit breaker guards an http or function handler, not a workflow/);
    const openapi = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{
      paths: Record<string, Record<string, { responses?: Record<string, unknown>; requestBody?: unknown }>>;
    }>();
    assert.match(JSON.stringify(openapi.paths['/v1/circuits']?.get?.responses?.['200']), /"halfOpen"/);
    assert.match(JSON.stringify(openapi.paths['/v1/tasks']?.post?.requestBody), /"circuitBreaker".*"onOpen"/);
    assert.match(JSON.stringify(openapi.paths['/v1/jobs']?.post?.requestBody), /"circuitBreaker"/);
  });
});
