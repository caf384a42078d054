import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { createTaskMetrics, surecronMetricNames, type TaskMetrics } from '../../src/metrics/task-metrics.js';
import {
  runtimeMetricsTelemetry,
  runtimeMetricsUrl,
  startWorkerMetricsServer,
  workerMetricsPortSchema,
} from '../../src/metrics/worker-endpoint.js';
import { listenLocal, type LocalServer } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';

const lines = async (metrics: TaskMetrics): Promise<string[]> => (await metrics.registry.metrics()).split('\n');
/** Asserts that each of `expected` is one of the exposition's `text` lines. */
function assertHasLines(text: readonly string[], expected: readonly string[]): void {
  for (const line of expected) assert.ok(text.includes(line), `missing ${line}`);
}

describe('createTaskMetrics', () => {
  it('counts finished runs by task and outcome and observes their duration', async () => {
    const metrics = createTaskMetrics();
    metrics.runFinished({ taskId: 'a', outcome: 'failed', durationMs: 1500, attempts: 3 });
    metrics.runFinished({ taskId: 'a', outcome: 'succeeded', durationMs: 20, attempts: 1 });
    metrics.runFinished({ taskId: 'a', outcome: 'succeeded', durationMs: 30, attempts: 1 });
    metrics.runFinished({ taskId: 'b', outcome: 'timed_out', durationMs: 3_600_000, attempts: 1 });
    const text = await lines(metrics);
    assertHasLines(text, [
      'surecron_task_runs_total{task="a",outcome="failed"} 1',
      'surecron_task_runs_total{task="a",outcome="succeeded"} 2',
      'surecron_task_runs_total{task="b",outcome="timed_out"} 1',
      'surecron_task_run_duration_seconds_count{task="a"} 3',
      'surecron_task_run_duration_seconds_sum{task="a"} 1.55',
      'surecron_task_run_duration_seconds_bucket{le="0.01",task="a"} 0',
      'surecron_task_run_duration_seconds_bucket{le="0.05",task="a"} 2',
      'surecron_task_run_duration_seconds_bucket{le="3600",task="b"} 1',
      'surecron_task_run_duration_seconds_bucket{le="1800",task="b"} 0',
    ]);
    assert.ok(!text.some((line) => line.startsWith('surecron_task_attempts_total{')), 'runFinished counts no attempts');
  });

  it('counts every attempt but observes lateness of first attempts only', async () => {
    const metrics = createTaskMetrics();
    metrics.attemptStarted({ taskId: 'a', attempt: 1, latenessMs: 1500 });
    metrics.attemptStarted({ taskId: 'a', attempt: 2, latenessMs: 61_000 });
    metrics.attemptStarted({ taskId: 'a', attempt: 3, latenessMs: 125_000 });
    metrics.attemptStarted({ taskId: 'b', attempt: 1, latenessMs: -40 }); // clock skew: counts as on time
    const text = await lines(metrics);
    assertHasLines(text, [
      'surecron_task_attempts_total{task="a"} 3',
      'surecron_task_attempts_total{task="b"} 1',
      'surecron_task_start_lateness_seconds_count{task="a"} 1',
      'surecron_task_start_lateness_seconds_sum{task="a"} 1.5',
      'surecron_task_start_lateness_seconds_bucket{le="1",task="a"} 0',
      'surecron_task_start_lateness_seconds_bucket{le="2.5",task="a"} 1',
      'surecron_task_start_lateness_seconds_bucket{le="+Inf",task="a"} 1',
      'surecron_task_start_lateness_seconds_count{task="b"} 1',
      'surecron_task_start_lateness_seconds_sum{task="b"} 0',
      'surecron_task_start_lateness_seconds_bucket{le="0.05",task="b"} 1',
    ]);
    const bounds = text
      .filter((line) => line.startsWith('surecron_task_start_lateness_seconds_bucket{') && line.includes('task="a"'))
      .map((line) => /le="([^"]+)"/.exec(line)?.[1]);
    assert.equal(bounds[0], '0.05');
    assert.equal(bounds.at(-2), '600');
  });

  it('counts missed runs and alerts', async () => {
    const metrics = createTaskMetrics();
    metrics.runMissed({ taskId: 'nightly' });
    metrics.runMissed({ taskId: 'nightly' });
    metrics.alertDelivered({ channel: 'email', result: 'sent' });
    metrics.alertDelivered({ channel: 'webhook', result: 'failed' });
    metrics.alertDelivered({ channel: 'email', result: 'deduplicated' });
    metrics.alertDelivered({ channel: 'email', result: 'sent' });
    const text = await lines(metrics);
    assertHasLines(text, [
      'surecron_task_missed_total{task="nightly"} 2',
      'surecron_alerts_total{channel="email",result="sent"} 2',
      'surecron_alerts_total{channel="webhook",result="failed"} 1',
      'surecron_alerts_total{channel="email",result="deduplicated"} 1',
    ]);
  });

  it('initTask exposes a task at zero, idempotently', async () => {
    const metrics = createTaskMetrics();
    metrics.initTask('a');
    metrics.initTask('a');
    metrics.runFinished({ taskId: 'a', outcome: 'cancelled', durationMs: 5, attempts: 1 });
    const text = await lines(metrics);
    assertHasLines(text, [
      'surecron_task_runs_total{task="a",outcome="succeeded"} 0',
      'surecron_task_runs_total{task="a",outcome="failed"} 0',
      'surecron_task_runs_total{task="a",outcome="cancelled"} 1',
      'surecron_task_runs_total{task="a",outcome="terminated"} 0',
      'surecron_task_attempts_total{task="a"} 0',
      'surecron_task_missed_total{task="a"} 0',
    ]);
  });

  it('exposes exactly the metrics named in surecronMetricNames, in its own registry', async () => {
    const registry = new Registry();
    const metrics = createTaskMetrics(registry);
    assert.equal(metrics.registry, registry);
    const exposed = (await registry.metrics())
      .split('\n')
      .filter((line) => line.startsWith('# TYPE '))
      .map((line) => line.split(' ')[2]);
    // prom-client prints a counter's TYPE line under its full name, `_total` included.
    assert.deepEqual([...exposed].sort(), [...surecronMetricNames].sort());
    assert.doesNotThrow(() => createTaskMetrics(), 'a second instance must not clash with the first');
  });
});

const runtimeText = [
  '# HELP temporal_request Temporal requests',
  '# TYPE temporal_request counter',
  'temporal_request_total{operation="PollWorkflowTaskQueue"} 7',
].join('\n'); // no trailing newline: the endpoint adds one

describe('startWorkerMetricsServer', () => {
  const metrics = createTaskMetrics();
  let runtime: LocalServer | undefined;
  let runtimeUrl: string;
  let runtimeStatus = 200;

  before(async () => {
    metrics.runFinished({ taskId: 'a', outcome: 'failed', durationMs: 10, attempts: 1 });
    runtime = await listenLocal(
      createServer((request, response) => {
        if (request.url !== '/metrics') return response.writeHead(404).end();
        response.writeHead(runtimeStatus, { 'content-type': 'text/plain' }).end(runtimeText);
      }),
    );
    runtimeUrl = `${runtime.origin}/metrics`;
  });
  after(() => runtime?.close());

  it('serves our metrics followed by the runtime exporter, and 404 elsewhere', async () => {
    const server = await startWorkerMetricsServer({
      port: 0,
      registry: metrics.registry,
      runtimeMetricsUrl: runtimeUrl,
    });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
      const response = await fetch(server.url);
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
      const body = await response.text();
      const ours = body.indexOf('surecron_task_runs_total{task="a",outcome="failed"} 1\n');
      const theirs = body.indexOf('temporal_request_total{operation="PollWorkflowTaskQueue"} 7\n');
      assert.ok(ours >= 0 && theirs > ours, body);
      assert.equal(body, `${await metrics.registry.metrics()}${runtimeText}\n`);
      assert.ok(!body.includes('unavailable'));

      const withQuery = await fetch(`${server.url}?x=1`);
      assert.equal(withQuery.status, 200);
      await withQuery.body?.cancel();
      for (const [path, method] of [
        ['/', 'GET'],
        ['/metricsx', 'GET'],
        ['/metrics', 'POST'],
      ] as const) {
        const other = await fetch(new URL(path, server.url), { method });
        assert.equal(other.status, 404, `${method} ${path}`);
        await other.body?.cancel();
      }
    } finally {
      await server.close();
    }
  });

  it('serves ours with a comment when the runtime exporter answers with an error', async () => {
    runtimeStatus = 503;
    const server = await startWorkerMetricsServer({
      port: 0,
      registry: metrics.registry,
      runtimeMetricsUrl: runtimeUrl,
    });
    try {
      const body = await (await fetch(server.url)).text();
      assert.ok(body.includes('surecron_task_runs_total{task="a",outcome="failed"} 1\n'));
      assert.ok(body.endsWith('# temporal runtime metrics unavailable: HTTP 503\n'), body);
    } finally {
      runtimeStatus = 200;
      await server.close();
    }
  });

  it('survives the runtime exporter being down', async () => {
    const downUrl = `http://127.0.0.1:${await freePort()}/metrics`;
    const port = await freePort();
    const server = await startWorkerMetricsServer({ port, registry: metrics.registry, runtimeMetricsUrl: downUrl });
    try {
      assert.equal(server.url, `http://127.0.0.1:${port}/metrics`);
      for (let i = 0; i < 2; i++) {
        const response = await fetch(server.url);
        assert.equal(response.status, 200);
        const body = await response.text();
        assert.ok(body.includes('surecron_task_runs_total{task="a",outcome="failed"} 1\n'));
        const comment = body.split('\n').find((line) => line.startsWith('# temporal runtime metrics unavailable: '));
        assert.match(comment ?? '', /ECONNREFUSED|fetch failed/);
        assert.ok(!body.includes('temporal_request_total'));
      }
    } finally {
      await server.close();
    }
  });

  it('gives up on a runtime exporter that hangs', async () => {
    const hanging = await listenLocal(createServer(() => {})); // never answers
    const hangingUrl = `${hanging.origin}/metrics`;
    const server = await startWorkerMetricsServer({
      port: 0,
      registry: metrics.registry,
      runtimeMetricsUrl: hangingUrl,
      runtimeTimeoutMs: 100,
    });
    try {
      const body = await (await fetch(server.url)).text();
      assert.ok(body.endsWith('# temporal runtime metrics unavailable: timed out\n'), body);
    } finally {
      await server.close();
      await hanging.close();
    }
  });

  it('serves ours alone without a runtime URL, and rejects a port in use', async () => {
    const server = await startWorkerMetricsServer({ port: 0, registry: metrics.registry });
    try {
      const body = await (await fetch(server.url)).text();
      assert.equal(body, await metrics.registry.metrics());
      const port = Number(new URL(server.url).port);
      await assert.rejects(startWorkerMetricsServer({ port, registry: metrics.registry }), /EADDRINUSE/);
    } finally {
      await server.close();
    }
  });
});

describe('runtime metrics configuration', () => {
  it('runtimeMetricsTelemetry gives Runtime.install a Prometheus exporter', () => {
    assert.deepEqual(runtimeMetricsTelemetry('127.0.0.1:9465'), {
      prometheus: { bindAddress: '127.0.0.1:9465', countersTotalSuffix: true, useSecondsForDurations: true },
    });
    assert.doesNotThrow(() => runtimeMetricsTelemetry('[::1]:9465'));
    for (const bad of ['9465', '127.0.0.1', 'http://127.0.0.1:9465', '']) {
      assert.throws(() => runtimeMetricsTelemetry(bad), RangeError, bad);
    }
  });

  it('runtimeMetricsUrl scrapes a wildcard bind address on loopback', () => {
    assert.equal(runtimeMetricsUrl('127.0.0.1:9465'), 'http://127.0.0.1:9465/metrics');
    assert.equal(runtimeMetricsUrl('0.0.0.0:9465'), 'http://127.0.0.1:9465/metrics');
    assert.equal(runtimeMetricsUrl('[::]:9465'), 'http://[::1]:9465/metrics');
  });

  it('workerMetricsPortSchema: unset or blank disables, else a port', () => {
    assert.equal(workerMetricsPortSchema.parse(undefined), undefined);
    assert.equal(workerMetricsPortSchema.parse('  '), undefined);
    assert.equal(workerMetricsPortSchema.parse('9464'), 9464);
    for (const bad of ['0', '65536', 'abc', '1.5']) {
      assert.equal(workerMetricsPortSchema.safeParse(bad).success, false, bad);
    }
  });
});
