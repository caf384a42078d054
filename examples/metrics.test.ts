import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnvironment, runFire, testHandler } from 'surecron/testing';
import { createExampleHandlers, type MetricsSink } from './handlers.js';
import { exampleCode } from './index.js';
import { exampleTask } from './tasks.js';

/** A sink that records every report and rejects the first `failures` of them. */
function recordingSink(failures = 0): MetricsSink & { reports: [string, Record<string, number>][] } {
  let calls = 0;
  const reports: [string, Record<string, number>][] = [];
  return {
    reports,
    report(key, figures) {
      calls += 1;
      reports.push([key, figures]);
      return calls <= failures ? Promise.reject(new Error('sink unreachable')) : Promise.resolve();
    },
  };
}

describe('reportMetrics, one attempt', () => {
  it('reports the process figures under the run idempotency key and returns them', async () => {
    const sink = recordingSink();
    const outcome = await testHandler({
      handlers: createExampleHandlers({ metrics: sink }),
      name: 'reportMetrics',
      taskId: 'metrics.report',
      nominalTime: '2026-03-02T01:00:00Z',
    });
    assert.equal(outcome.status, 'succeeded');
    assert.equal(sink.reports.length, 1);
    const [key, figures] = sink.reports[0] ?? [];
    assert.equal(key, 'metrics.report@2026-03-02T01:00:00Z');
    assert.deepEqual(Object.keys(figures ?? {}), ['rssBytes', 'heapUsedBytes', 'uptimeSeconds']);
    assert.ok((figures?.rssBytes ?? 0) > 0);
    assert.deepEqual(outcome.result, figures);
  });
});

describe('the metrics.report task, one fire', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTestEnvironment();
  });
  after(async () => {
    await env.teardown();
  });

  it('the top of the hour in Shanghai: a retried report carries the same idempotency key', async () => {
    const sink = recordingSink(1);
    const outcome = await runFire(env, exampleCode({ metrics: sink }), {
      task: exampleTask('metrics.report'),
      nominalTime: '2026-03-02T09:00:00+08:00',
    });
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.nominalTime, '2026-03-02T01:00:00Z');
    assert.equal(outcome.attempts, 2);
    assert.deepEqual(
      sink.reports.map(([key]) => key),
      ['metrics.report@2026-03-02T01:00:00Z', 'metrics.report@2026-03-02T01:00:00Z'],
    );
    assert.deepEqual(outcome.result, sink.reports[1]?.[1]);
  });

  it('fails after its three attempts when the sink stays unreachable', async () => {
    const sink = recordingSink(3);
    const outcome = await runFire(env, exampleCode({ metrics: sink }), {
      task: exampleTask('metrics.report'),
      nominalTime: '2026-03-02T02:00:00Z',
    });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.attempts, 3);
    assert.deepEqual(outcome.error, { message: 'sink unreachable', type: 'Error' });
    assert.equal(outcome.result, undefined);
    assert.equal(sink.reports.length, 3);
  });
});
