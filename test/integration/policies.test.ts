import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client, ScheduleDescription } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { NonRetryableError, type HandlerRegistry } from '../../src/activities/handler.js';
import { createWatchdogActivities } from '../../src/activities/watchdog.js';
import { previewSchedule } from '../../src/tasks/preview.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';
import { mostAtOnce } from '../helpers/count.js';

/**
 * The policies of a task (retry, timeouts, heartbeats, overlap, pause, maxRuns, pauseOnFailure) as the real
 * Temporal dev server enforces them. Every test has its own task queue, task id and worker with fake handlers.
 */

/** The milliseconds of an ISO instant. */
const at = (iso: string): number => Date.parse(iso);

/** Details of a failure of one attempt, so the assertion messages show what happened. */
function show(value: unknown): string {
  return JSON.stringify(value);
}

/** Polls the run ledger until `pick` finds what it wants. */
function waitForRuns<T>(client: Client, id: string, pick: (runs: Run[]) => T | undefined, what: string): Promise<T> {
  return waitFor(async () => pick((await listRuns(client, id)).items), 15_000, what);
}

interface Harness {
  client: Client;
  id: string;
  taskQueue: string;
  worker: Worker;
  describeSchedule: (this: void) => Promise<ScheduleDescription>;
}

/**
 * Creates the task (spec completed with its id) and a worker with `handlers`, runs `body` while the worker
 * polls, and always deletes the schedule and closes the worker's connection.
 */
async function withTask<T>(
  client: Client,
  prefix: string,
  spec: Omit<TaskSpecInput, 'id'>,
  handlers: HandlerRegistry,
  body: (h: Harness) => Promise<T>,
): Promise<T> {
  const taskQueue = uniqueId('tq');
  const id = uniqueId(prefix);
  const store = testStore(client, taskQueue);
  const { worker, connection } = await testWorker({ taskQueue, handlers });
  const handle = client.schedule.getHandle(id);
  try {
    await store.create(taskSpecSchema.parse({ ...spec, id }), 'api');
    const harness: Harness = { client, id, taskQueue, worker, describeSchedule: () => handle.describe() };
    return await worker.runUntil(body(harness));
  } finally {
    await handle.delete().catch(() => undefined);
    await connection.close();
  }
}

/** A yearly cron: the schedule never fires by itself within a test, runs come from `trigger()`. */
const NEVER = '0 0 1 1 *';

describe('task policies on the real dev server', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  describe('non-retryable failures', () => {
    /** Triggers the task; returns its failed run once the server had time to hand out a (wrong) second attempt. */
    async function triggerUntilFailed({ id }: Harness): Promise<Run> {
      await client.schedule.getHandle(id).trigger();
      const failed = await waitForRuns(client, id, (runs) => runs.find((r) => r.status === 'failed'), 'a failed run');
      await sleep(1_000);
      return failed;
    }

    it('a NonRetryableError stops after 1 attempt although maxAttempts is 5', async () => {
      const attempts: number[] = [];
      const run = await withTask(
        client,
        'nonretry',
        {
          schedule: { cron: NEVER },
          handler: { type: 'function', name: 'refuse' },
          retry: { maxAttempts: 5, initialInterval: '200ms' },
        },
        {
          refuse: (_input, ctx) => {
            attempts.push(ctx.attempt);
            return Promise.reject(new NonRetryableError('customer 42 is gone'));
          },
        },
        triggerUntilFailed,
      );
      assert.deepEqual(attempts, [1]);
      assert.equal(run.status, 'failed');
      assert.equal(run.attempts, 1);
      assert.ok(run.error?.includes('customer 42 is gone'), `error ${show(run.error)} carries the handler message`);
    });

    it('an error type listed in retry.nonRetryable stops after 1 attempt', async () => {
      const attempts: number[] = [];
      const run = await withTask(
        client,
        'nonretry-type',
        {
          schedule: { cron: NEVER },
          handler: { type: 'function', name: 'validate' },
          retry: { maxAttempts: 5, initialInterval: '200ms', nonRetryable: ['ValidationError'] },
        },
        {
          validate: (_input, ctx) => {
            attempts.push(ctx.attempt);
            const error = new Error('field "email" is not an email');
            error.name = 'ValidationError';
            return Promise.reject(error);
          },
        },
        triggerUntilFailed,
      );
      assert.deepEqual(attempts, [1]);
      assert.equal(run.status, 'failed');
      assert.equal(run.attempts, 1);
      assert.ok(run.error?.includes('field "email" is not an email'), `error ${show(run.error)}`);
    });
  });

  it('an attempt timeout cuts a slow handler: 2 attempts of 1 s, then the run fails with attempts 2', async (t) => {
    const calls: { attempt: number; start: number; end?: number; aborted?: boolean }[] = [];
    const run = await withTask(
      client,
      'attempt-timeout',
      {
        schedule: { cron: NEVER },
        handler: { type: 'function', name: 'slow' },
        timeouts: { attempt: '1s' },
        retry: { maxAttempts: 2, initialInterval: '200ms' },
      },
      {
        slow: async (_input, ctx) => {
          const call: (typeof calls)[number] = { attempt: ctx.attempt, start: Date.now() };
          calls.push(call);
          try {
            await sleep(3_000, ctx.signal);
          } catch (error) {
            call.aborted = true;
            throw error;
          } finally {
            call.end = Date.now();
          }
          return 'too late';
        },
      },
      async ({ id }) => {
        await client.schedule.getHandle(id).trigger();
        const failed = await waitForRuns(client, id, (runs) => runs.find((r) => r.status === 'failed'), 'a failed run');
        // Let both handler calls end (by their signal or their 3 s sleep) before the worker shuts down.
        await waitFor(async () => (calls.every((c) => c.end !== undefined) ? true : undefined), 5_000, 'handlers');
        return failed;
      },
    );
    t.diagnostic(`handler calls ${show(calls.map((c) => ({ ...c, ms: c.end! - c.start })))}; run ${show(run)}`);
    assert.deepEqual(
      calls.map((c) => c.attempt),
      [1, 2],
    );
    const gap = calls[1]!.start - calls[0]!.start;
    assert.ok(gap >= 1_150 && gap < 3_000, `attempt 2 started ${gap} ms after attempt 1 (1 s timeout + 200 ms)`);
    const runMs = at(run.closedAt!) - at(run.startedAt);
    assert.ok(runMs < 5_000, `the run took ${runMs} ms: both attempts were cut at 1 s, not after the handler's 3 s`);
    assert.equal(run.status, 'failed');
    assert.equal(run.attempts, 2);
    assert.match(run.error ?? '', /timeout/i);
  });

  it('heartbeat details survive a failed attempt: attempt 2 resumes from { done: 3 }', async () => {
    const seen: { attempt: number; details: unknown }[] = [];
    let resumedFrom: number | undefined;
    const run = await withTask(
      client,
      'heartbeat',
      {
        schedule: { cron: NEVER },
        handler: { type: 'function', name: 'resumable' },
        timeouts: { attempt: '10s', heartbeat: '1s' },
        retry: { maxAttempts: 3, initialInterval: '200ms' },
      },
      {
        resumable: async (_input, ctx) => {
          seen.push({ attempt: ctx.attempt, details: ctx.heartbeatDetails });
          const from = (ctx.heartbeatDetails as { done?: number } | undefined)?.done ?? 0;
          if (ctx.attempt > 1) resumedFrom = from;
          let done = from;
          while (done < 5) {
            done += 1;
            ctx.heartbeat({ done });
            await sleep(100, ctx.signal);
            if (ctx.attempt === 1 && done === 3) {
              // Heartbeats are throttled (0.8 × the 1 s heartbeat timeout): keep beating for longer than the
              // throttle interval so { done: 3 } reaches the server as a heartbeat before the attempt fails (the
              // SDK also flushes pending details with the failure, but this test does not rely on that).
              for (let i = 0; i < 4; i++) {
                ctx.heartbeat({ done });
                await sleep(300, ctx.signal);
              }
              throw new Error('lost the connection after 3 items');
            }
          }
          return { done };
        },
      },
      async ({ id }) => {
        await client.schedule.getHandle(id).trigger();
        return waitForRuns(client, id, (runs) => runs.find((r) => r.status !== 'running'), 'the run to close');
      },
    );
    assert.deepEqual(seen, [
      { attempt: 1, details: undefined },
      { attempt: 2, details: { done: 3 } },
    ]);
    assert.equal(resumedFrom, 3);
    assert.equal(run.status, 'succeeded');
    assert.equal(run.attempts, 2);
  });

  describe('overlap policies with a 5 s handler fired every 2 s', { concurrency: true }, () => {
    interface Call {
      nominal: number;
      start: number;
      end?: number;
    }

    /**
     * Runs a task firing every 2 s whose handler takes 5 s, for 9 s after its first run starts; then asks the
     * watchdog which fires it finds missed (a run must start within 2 s), pauses the schedule, lets the handlers in
     * flight finish and returns the calls, the watchdog's missed fires and the schedule's description.
     */
    async function overlapRun(
      overlap: 'skip' | 'buffer_one' | 'allow_all',
    ): Promise<{ calls: Call[]; missedByWatchdog: unknown[]; description: ScheduleDescription }> {
      const calls: Call[] = [];
      return withTask(
        client,
        `overlap-${overlap.replace('_', '-')}`,
        {
          schedule: { cron: '*/2 * * * * *' },
          handler: { type: 'function', name: 'slow' },
          overlap,
          retry: { maxAttempts: 1 },
          maxLateness: '2s',
        },
        {
          slow: async (_input, ctx) => {
            const call: Call = { nominal: at(ctx.nominalTime), start: Date.now() };
            calls.push(call);
            try {
              await sleep(5_000, ctx.signal);
            } finally {
              call.end = Date.now();
            }
            return 'done';
          },
        },
        async ({ id, taskQueue, describeSchedule }) => {
          const first = await waitFor(async () => calls[0], 10_000, 'the first run');
          await sleep(first.start + 9_000 - Date.now());
          const watchdog = createWatchdogActivities({ client, store: testStore(client, taskQueue) });
          const missedByWatchdog = (await watchdog.inspectTasks({}))
            .filter(({ alert }) => alert.taskId === id && alert.event === 'run_missed')
            .map(({ alert }) => alert.details.nominalTime);
          await client.schedule.getHandle(id).pause('test over');
          await sleep(500);
          await waitFor(async () => (calls.every((c) => c.end !== undefined) ? true : undefined), 10_000, 'handlers');
          return { calls: [...calls], missedByWatchdog, description: await describeSchedule() };
        },
      );
    }

    /** Calls relative to the first nominal time, in seconds: `nominal: start..end`, for the test log. */
    function timeline(calls: Call[], description: ScheduleDescription): string {
      const t0 = calls[0]?.nominal ?? 0;
      const s = (ms: number): string => ((ms - t0) / 1000).toFixed(1);
      const { numActionsTaken, numActionsSkippedOverlap, numActionsMissedCatchupWindow } = description.info;
      return `${calls.map((c) => `${s(c.nominal)}: ${s(c.start)}..${s(c.end!)}`).join(', ')}; ${show({
        numActionsTaken,
        numActionsSkippedOverlap,
        numActionsMissedCatchupWindow,
      })}`;
    }

    const maxConcurrency = (calls: Call[]): number => mostAtOnce(calls.map((c) => ({ start: c.start, end: c.end! })));

    it('skip: runs never overlap and the fires during a run are counted as skipped', async (t) => {
      const { calls, missedByWatchdog, description } = await overlapRun('skip');
      t.diagnostic(timeline(calls, description));
      const detail = show({ calls, info: description.info });
      assert.deepEqual(missedByWatchdog, [], `the watchdog takes the skipped fires for skips, not misses: ${detail}`);
      assert.ok(calls.length >= 2 && calls.length <= 3, `2 or 3 runs in 9 s: ${detail}`);
      assert.equal(maxConcurrency(calls), 1, `never two at once: ${detail}`);
      for (let i = 1; i < calls.length; i++) {
        assert.ok(calls[i]!.start >= calls[i - 1]!.end!, `run ${i} starts after run ${i - 1} ended: ${detail}`);
        // Skip drops the fires that came during the previous run: the next run is a later fire, started on time.
        assert.ok(calls[i]!.nominal >= calls[i - 1]!.nominal + 6_000, `a fresh fire, not a buffered one: ${detail}`);
        assert.ok(calls[i]!.start - calls[i]!.nominal < 2_000, `started on time: ${detail}`);
      }
      assert.ok(description.info.numActionsSkippedOverlap >= 2, `skipped ≥ 2: ${detail}`);
      assert.equal(description.info.numActionsTaken, calls.length);
    });

    it('buffer_one: one fire waits for the slow run and starts right after it, the rest are skipped', async (t) => {
      const { calls, missedByWatchdog, description } = await overlapRun('buffer_one');
      t.diagnostic(timeline(calls, description));
      const detail = show({ calls, info: description.info });
      assert.deepEqual(missedByWatchdog, [], `nor the fires buffer_one drops: ${detail}`);
      assert.ok(calls.length >= 2, `at least 2 runs: ${detail}`);
      assert.equal(maxConcurrency(calls), 1, `never two at once: ${detail}`);
      const [first, buffered] = [calls[0]!, calls[1]!];
      assert.equal(buffered.nominal, first.nominal + 2_000, `the buffered run is the next fire: ${detail}`);
      const wait = buffered.start - first.end!;
      assert.ok(wait >= 0 && wait < 2_000, `started ${wait} ms after the slow run ended: ${detail}`);
      const late = buffered.start - buffered.nominal;
      assert.ok(late >= 2_500 && late < 7_000, `its nominal time is ${late} ms older than its start: ${detail}`);
      assert.ok(
        description.info.numActionsSkippedOverlap >= 1,
        `the fire after the buffered one is skipped: ${detail}`,
      );
    });

    it('allow_all: runs overlap freely and nothing is skipped', async (t) => {
      const { calls, description } = await overlapRun('allow_all');
      t.diagnostic(timeline(calls, description));
      const detail = show({ calls, info: description.info });
      assert.ok(calls.length >= 4, `a run every 2 s over 9 s: ${detail}`);
      assert.ok(maxConcurrency(calls) >= 2, `concurrent runs: ${detail}`);
      for (const call of calls) assert.ok(call.start - call.nominal < 2_000, `each fire started on time: ${detail}`);
      const gaps = calls.slice(1).map((c, i) => c.nominal - calls[i]!.nominal);
      assert.ok(
        gaps.every((g) => g === 2_000),
        `every fire ran, 2 s apart: ${show(gaps)}`,
      );
      assert.equal(description.info.numActionsSkippedOverlap, 0);
      assert.equal(description.info.numActionsTaken, calls.length);
    });
  });

  it('a task created paused does not run; unpause starts runs; pause stops them', async (t) => {
    const starts: { nominal: number; start: number }[] = [];
    await withTask(
      client,
      'pause',
      { schedule: { cron: '* * * * * *' }, handler: { type: 'function', name: 'tick' }, paused: true },
      {
        tick: (_input, ctx) => {
          starts.push({ nominal: at(ctx.nominalTime), start: Date.now() });
          return Promise.resolve('ok');
        },
      },
      async ({ id, describeSchedule }) => {
        const handle = client.schedule.getHandle(id);
        await sleep(3_000);
        assert.equal(starts.length, 0, 'nothing runs while paused');
        const paused = await describeSchedule();
        assert.equal(paused.state.paused, true);
        assert.equal(paused.info.numActionsTaken, 0);

        const unpausedAt = Date.now();
        await handle.unpause('go');
        await waitFor(async () => (starts.length >= 2 ? true : undefined), 10_000, '2 runs after unpause');
        assert.ok(
          starts.every((s) => s.nominal >= unpausedAt - 1_000),
          `no catch-up of the paused seconds: ${show({ unpausedAt, starts })}`,
        );

        await handle.pause('stop');
        const pausedAt = Date.now();
        await sleep(1_500);
        const afterGrace = starts.length;
        await sleep(3_000);
        assert.equal(starts.length, afterGrace, `no new runs after the grace: ${show({ pausedAt, starts })}`);
        assert.ok(
          starts.every((s) => s.nominal <= pausedAt),
          `no fire after the pause ran: ${show({ pausedAt, starts })}`,
        );
        const description = await describeSchedule();
        t.diagnostic(
          `unpaused ${new Date(unpausedAt).toISOString()}, paused ${new Date(pausedAt).toISOString()}; nominals ${show(
            starts.map((s) => new Date(s.nominal).toISOString()),
          )}; skipped (overlap) ${description.info.numActionsSkippedOverlap}`,
        );
        assert.equal(description.state.paused, true);
        assert.equal(description.state.note, 'stop');
        assert.equal(description.info.numActionsTaken, starts.length);
      },
    );
  });

  it('maxRuns: 2 with a 1 s cron runs exactly twice, then remainingActions is 0', async (t) => {
    const nominals: number[] = [];
    await withTask(
      client,
      'maxruns',
      { schedule: { cron: '* * * * * *' }, handler: { type: 'function', name: 'tick' }, maxRuns: 2 },
      {
        tick: (_input, ctx) => {
          nominals.push(at(ctx.nominalTime));
          return Promise.resolve('ok');
        },
      },
      async ({ id, describeSchedule }) => {
        await sleep(5_000);
        const description = await describeSchedule();
        t.diagnostic(
          `nominals ${show(nominals.map((n) => new Date(n).toISOString()))}, info ${show(description.info)}`,
        );
        assert.equal(nominals.length, 2, `exactly 2 runs in 5 s: ${show(nominals)}`);
        // Two different fires, whole seconds apart (with overlap `skip`, a fire that comes before the server has
        // seen the previous run close is skipped, so they are not always consecutive seconds).
        const gap = nominals[1]! - nominals[0]!;
        assert.ok(gap >= 1_000 && gap % 1_000 === 0, `fires ${gap} ms apart`);
        assert.equal(description.state.remainingActions, 0);
        assert.equal(description.info.numActionsTaken, 2);
        const runs = await waitForRuns(
          client,
          id,
          (items) => (items.filter((r) => r.status === 'succeeded').length === 2 ? items : undefined),
          '2 succeeded runs',
        );
        assert.equal(runs.length, 2);
      },
    );
  });

  it('pauseOnFailure: the first failed run pauses the schedule', async (t) => {
    const calls: { nominal: number; attempt: number }[] = [];
    await withTask(
      client,
      'pause-on-failure',
      {
        schedule: { cron: '* * * * * *' },
        handler: { type: 'function', name: 'broken' },
        retry: { maxAttempts: 1 },
        pauseOnFailure: true,
      },
      {
        broken: (_input, ctx) => {
          calls.push({ nominal: at(ctx.nominalTime), attempt: ctx.attempt });
          return Promise.reject(new Error('database is down'));
        },
      },
      async ({ id, describeSchedule }) => {
        const description = await waitFor(
          async () => {
            const d = await describeSchedule();
            return d.state.paused ? d : undefined;
          },
          10_000,
          'the schedule to pause itself',
        );
        await sleep(2_500);
        assert.equal(calls.length, 1, `only the first run happened: ${show(calls)}`);
        assert.equal(calls[0]!.attempt, 1);
        t.diagnostic(`note: ${show(description.state.note)}`);
        assert.match(description.state.note ?? '', /fail/i, `note: ${show(description.state.note)}`);
        const after = await describeSchedule();
        assert.equal(after.state.paused, true);
        assert.equal(after.info.numActionsTaken, 1);
        const runs = await waitForRuns(
          client,
          id,
          (items) => (items.length && items.every((r) => r.status !== 'running') ? items : undefined),
          'the failed run',
        );
        assert.deepEqual(
          runs.map((r) => [r.status, r.attempts]),
          [['failed', 1]],
        );
        assert.match(runs[0]!.error ?? '', /database is down/);
      },
    );
  });

  it('the preview of a live task equals the nominal times it fires at', async () => {
    const nominals: string[] = [];
    const spec = { schedule: { cron: '*/3 * * * * *' }, handler: { type: 'function' as const, name: 'tick' } };
    // Stay clear of a fire boundary while creating, so "after the creation time" is unambiguous.
    if (Date.now() % 3_000 > 2_700) await sleep(3_000 - (Date.now() % 3_000) + 100);
    await withTask(
      client,
      'preview-live',
      spec,
      {
        tick: (_input, ctx) => {
          nominals.push(ctx.nominalTime);
          return Promise.resolve('ok');
        },
      },
      async ({ describeSchedule }) => {
        const { info } = await describeSchedule();
        const preview = previewSchedule(taskSpecSchema.parse({ ...spec, id: 'x' }).schedule, {
          from: info.createdAt,
          count: 3,
        });
        await waitFor(async () => (nominals.length >= 3 ? true : undefined), 15_000, '3 runs');
        assert.deepEqual(
          nominals.slice(0, 3),
          preview.map((p) => p.at),
        );
      },
    );
  });
});
