import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino } from 'pino';
import type { HandlerContext } from '../../src/activities/handler.js';
import {
  createRunHandlerActivities,
  type RunHandlerInput,
  type RunHandlerOutput,
} from '../../src/activities/run-handler.js';
import { createHttpGuard } from '../../src/security/http-guard.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { toRunInput } from '../../src/tasks/schedule.js';
import { silentSdkLogger } from '../../src/temporal/runtime-logger.js';
import { sleep } from '../helpers/time.js';

const spec = (fields: Record<string, unknown>) =>
  taskSpecSchema.parse({
    id: 'beats',
    schedule: { every: '1m' },
    handler: { type: 'function', name: 'work' },
    ...fields,
  });

describe('liveness heartbeats: what a task without a declared heartbeat is given', () => {
  it('the default task (5m attempts, no heartbeat): a 15 s heartbeat timeout the worker beats against', () => {
    const input = toRunInput(spec({}));
    assert.equal(input.activity.heartbeatTimeout, 15_000);
    assert.equal(input.workerHeartbeats, true);
    assert.equal(input.localActivity, undefined);
  });

  it('a declared heartbeat is the handler’s own: its timeout, no worker beats', () => {
    const input = toRunInput(spec({ timeouts: { heartbeat: '30s' } }));
    assert.equal(input.activity.heartbeatTimeout, 30_000);
    assert.equal(input.workerHeartbeats, undefined);
  });

  it('a short attempt is bounded by itself: local (≤ 10 s) or activity (≤ 15 s), no liveness timeout', () => {
    const local = toRunInput(spec({ timeouts: { attempt: '5s' } }));
    assert.equal(local.localActivity, true);
    assert.equal(local.activity.heartbeatTimeout, undefined);
    const short = toRunInput(spec({ timeouts: { attempt: '12s' }, execution: 'activity' }));
    assert.equal(short.activity.heartbeatTimeout, undefined);
    assert.equal(short.workerHeartbeats, undefined);
  });
});

describe('runHandler with worker heartbeats', () => {
  const attempt = async (workerHeartbeats: boolean, work: (ctx: HandlerContext) => Promise<unknown>) => {
    const env = new MockActivityEnvironment(
      {
        activityType: 'runHandler',
        startToCloseTimeoutMs: 60_000,
        heartbeatTimeoutMs: 3000,
        heartbeatDetails: { done: 1 },
        workflowExecution: { workflowId: 'beats-1', runId: 'r' },
      },
      { logger: silentSdkLogger },
    );
    const beats: { at: number; details: unknown }[] = [];
    const started = Date.now();
    env.on('heartbeat', (details: unknown) => beats.push({ at: Date.now() - started, details }));
    const activities = createRunHandlerActivities({
      handlers: { work: (_input, ctx) => work(ctx) },
      logger: pino({ level: 'silent' }),
      http: createHttpGuard(),
    });
    const input: RunHandlerInput = {
      taskId: 'beats',
      nominalTime: '2026-01-01T00:00:00Z',
      idempotencyKey: 'beats@2026-01-01T00:00:00Z',
      handler: { type: 'function', name: 'work' },
      ...(workerHeartbeats ? { workerHeartbeats: true } : {}),
    };
    const runHandler = (call: RunHandlerInput): Promise<RunHandlerOutput> => activities.runHandler(call);
    // The activity's own timers do not hold the process open (a worker's do): this test's loop must stay up.
    const alive = setInterval(() => undefined, 1000);
    const outcome = await env
      .run<[RunHandlerInput], RunHandlerOutput, typeof runHandler>(runHandler, input)
      .then((output) => ({ result: output.result }))
      .catch((error: unknown) => ({ error }))
      .finally(() => clearInterval(alive));
    return { outcome, beats };
  };

  it('a handler that never beats runs 4 s past a 3 s heartbeat timeout: the worker beats every second, with the last details', async () => {
    const { outcome, beats } = await attempt(true, async (ctx) => {
      await sleep(4000);
      if (ctx.signal.aborted) throw new Error(`aborted: ${String(ctx.signal.reason)}`);
      return 'done';
    });
    assert.deepEqual(outcome, { result: 'done' });
    assert.ok(beats.length >= 4, `${beats.length} beats`);
    assert.ok(beats[0]!.at < 100, 'one at once');
    assert.ok(
      beats.every((beat) => JSON.stringify(beat.details) === '{"done":1}'),
      'the previous attempt’s details kept',
    );
  });

  it('the handler’s own details replace them in the worker’s later beats', async () => {
    const { beats } = await attempt(true, async (ctx) => {
      await sleep(500);
      ctx.heartbeat({ done: 2 });
      await sleep(1800);
      return 'done';
    });
    assert.deepEqual(beats.at(-1)?.details, { done: 2 });
    assert.ok(beats.filter((beat) => JSON.stringify(beat.details) === '{"done":2}').length >= 2);
  });

  it('without worker heartbeats a silent handler is cut off at the declared 3 s timeout', async () => {
    let aborted: unknown;
    const { outcome } = await attempt(false, async (ctx) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      aborted = ctx.signal.reason;
      throw ctx.signal.reason;
    });
    assert.match(String(aborted), /heartbeat timeout/);
    assert.ok('error' in outcome && outcome.error instanceof ApplicationFailure);
  });
});
