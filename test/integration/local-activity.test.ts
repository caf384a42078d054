import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { NonRetryableError, type HandlerRegistry } from '../../src/activities/handler.js';
import { runDetail, type RunDetail } from '../../src/runs/run-detail.js';
import { listRuns } from '../../src/runs/runs.js';
import { runsLocally } from '../../src/tasks/execution.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';

/**
 * Short handlers run as local activities (`tasks/execution.ts`): on the real dev server, a first-try success
 * takes one workflow task, a marker and no activity task; a failed local attempt is followed by ordinary
 * activity retries numbered from 2 with the same idempotency key; `execution: 'activity'` opts out.
 */

const { EventType } = proto.temporal.api.enums.v1;
const NEVER = '0 0 1 1 *';

interface Shape {
  workflowTasks: number;
  markers: number;
  activitiesScheduled: number;
  events: number;
}

async function historyShape(client: Client, workflowId: string): Promise<Shape> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const count = (type: proto.temporal.api.enums.v1.EventType) => events.filter((e) => e.eventType === type).length;
  return {
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    markers: count(EventType.EVENT_TYPE_MARKER_RECORDED),
    activitiesScheduled: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    events: events.length,
  };
}

describe('local activities on the real dev server', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  /** Creates the task, triggers it once and returns its closed run's detail and history shape. */
  async function runOnce(spec: Omit<TaskSpecInput, 'id'>, handlers: HandlerRegistry) {
    const taskQueue = uniqueId('tq');
    const id = uniqueId('local');
    const store = testStore(client, taskQueue);
    const { worker, connection } = await testWorker({ taskQueue, handlers });
    const handle = client.schedule.getHandle(id);
    try {
      await store.create(taskSpecSchema.parse({ ...spec, id }), 'api');
      await handle.trigger();
      const run = await worker.runUntil(
        waitFor(
          async () => (await listRuns(client, id)).items.find((r) => r.status !== 'running'),
          20_000,
          `the run of ${id} to close`,
        ),
      );
      const detail: RunDetail = await runDetail(client, run.workflowId);
      return { id, run, detail, shape: await historyShape(client, run.workflowId) };
    } finally {
      await handle.delete().catch(() => undefined);
      await connection.close();
    }
  }

  it('the rule: local for function and http handlers with attempt timeouts up to 10 s and no heartbeat', () => {
    const fn = { type: 'function', name: 'x' } as const;
    assert.equal(runsLocally({ handler: fn, timeouts: { attempt: '10s' } }), true);
    assert.equal(runsLocally({ handler: fn, timeouts: { attempt: '11s' } }), false);
    assert.equal(runsLocally({ handler: fn }), false, 'the default attempt timeout is 5m');
    assert.equal(runsLocally({ handler: fn, timeouts: { attempt: '5s', heartbeat: '1s' } }), false);
    assert.equal(runsLocally({ handler: fn, execution: 'local' }), true);
    assert.equal(runsLocally({ handler: fn, timeouts: { attempt: '1s' }, execution: 'activity' }), false);
    assert.equal(runsLocally({ handler: { type: 'workflow', name: 'w' }, execution: 'local' }), false);
    assert.throws(() =>
      taskSpecSchema.parse({
        id: 'x',
        schedule: { cron: NEVER },
        handler: fn,
        execution: 'local',
        timeouts: { heartbeat: '1s' },
      }),
    );
  });

  it('a first-try success: one workflow task, one marker, no activity task; attempt 1 in the run detail', async () => {
    const keys: string[] = [];
    const { id, detail, shape } = await runOnce(
      { schedule: { cron: NEVER }, handler: { type: 'function', name: 'ok' }, timeouts: { attempt: '5s' } },
      { ok: async (_input, ctx) => (keys.push(ctx.idempotencyKey), Promise.resolve({ done: ctx.attempt })) },
    );
    assert.equal(detail.status, 'succeeded');
    assert.equal(detail.attempts, 1);
    assert.deepEqual(detail.result, { done: 1 });
    assert.deepEqual(shape, { ...shape, workflowTasks: 1, markers: shape.markers, activitiesScheduled: 0 });
    assert.ok(shape.markers >= 1, `markers ${shape.markers}`);
    assert.deepEqual(
      detail.attemptsDetail.map((a) => [a.attempt, a.outcome]),
      [[1, 'succeeded']],
    );
    assert.deepEqual(keys, [`${id}@${detail.nominalTime}`]);
  });

  it('a failed local attempt: retried as an activity, numbered 2, same key; both attempts in the detail', async () => {
    const seen: { attempt: number; key: string }[] = [];
    const { id, run, detail, shape } = await runOnce(
      {
        schedule: { cron: NEVER },
        handler: { type: 'function', name: 'flaky' },
        timeouts: { attempt: '5s' },
        retry: { maxAttempts: 3, initialInterval: '200ms' },
      },
      {
        flaky: async (_input, ctx) => {
          seen.push({ attempt: ctx.attempt, key: ctx.idempotencyKey });
          if (ctx.attempt < 2) throw new Error('transient');
          return Promise.resolve('ok');
        },
      },
    );
    assert.equal(detail.status, 'succeeded', run.error);
    assert.equal(detail.attempts, 2);
    assert.deepEqual(
      seen.map((s) => s.attempt),
      [1, 2],
    );
    assert.deepEqual(new Set(seen.map((s) => s.key)), new Set([`${id}@${detail.nominalTime}`]));
    assert.equal(shape.activitiesScheduled, 1);
    assert.deepEqual(
      detail.attemptsDetail.map((a) => [a.attempt, a.outcome, a.error]),
      [
        [1, 'failed', 'transient'],
        [2, 'succeeded', undefined],
      ],
    );
  });

  it('a non-retryable failure on the local attempt ends the run: 1 attempt, no activity', async () => {
    let calls = 0;
    const { run, detail, shape } = await runOnce(
      {
        schedule: { cron: NEVER },
        handler: { type: 'function', name: 'broken' },
        timeouts: { attempt: '5s' },
        retry: { maxAttempts: 5 },
      },
      { broken: async () => ((calls += 1), Promise.reject(new NonRetryableError('bad input'))) },
    );
    assert.equal(detail.status, 'failed');
    assert.equal(detail.attempts, 1);
    assert.equal(calls, 1);
    assert.equal(shape.activitiesScheduled, 0);
    assert.match(run.error ?? '', /bad input/);
  });

  it("execution: 'activity' keeps a short handler an activity task", async () => {
    const { detail, shape } = await runOnce(
      {
        schedule: { cron: NEVER },
        handler: { type: 'function', name: 'ok' },
        timeouts: { attempt: '5s' },
        execution: 'activity',
      },
      { ok: async () => Promise.resolve(1) },
    );
    assert.equal(detail.status, 'succeeded');
    assert.equal(shape.activitiesScheduled, 1);
    assert.equal(shape.workflowTasks, 2);
    assert.deepEqual(
      detail.attemptsDetail.map((a) => [a.attempt, a.outcome]),
      [[1, 'succeeded']],
    );
  });
});
