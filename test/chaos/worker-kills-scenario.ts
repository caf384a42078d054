import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { Client } from '@temporalio/client';
import { taskLedger } from '../../src/runs/ledger.js';
import { TaskService } from '../../src/tasks/service.js';
import { countBy } from '../helpers/count.js';
import { workDir } from '../helpers/dirs.js';
import { testClient, testStore, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';
import {
  allRuns,
  ChaosServer,
  full,
  percentile,
  readAttempts,
  readSink,
  recordFigures,
  seconds,
  sinkTask,
  uniqueId,
  WorkerPool,
} from './chaos-lib.js';

/**
 * Worker processes are `kill -9`ed again and again while a task fires every 2 s, each kill landing in the middle
 * of a handler attempt. Every fire must still complete exactly once (ledger), the idempotent side effect must
 * hold each key once, and the retries must show as extra attempts.
 */
/**
 * The worker-kills scenario, shared by worker-kills.test.ts and (full scale only) worker-kills-2.test.ts: the full
 * run's >= 20 kills are split over two files because test/run.ts gives one file at most 300 s.
 *
 * Handler work is 0.5 s instead of 1.5 s: with a 2 s cadence, `buffer_all` runs fires one
 * after another, and each kill stalls the task 5-15 s, so a 1.5 s handler leaves too little spare capacity to
 * catch up within one file's time (see RELIABILITY.md, "Weaknesses found").
 */
export const workerKillSettings = full
  ? { workers: 3, kills: 10, workMs: 500, gapMs: [500, 1_500] as const, budgetMs: 170_000 }
  : { workers: 2, kills: 4, workMs: 500, gapMs: [500, 1_500] as const, budgetMs: 60_000 };
const settings = workerKillSettings;
/** The shortest window the ledger and the sink are judged over. */
const MIN_WINDOW_MS = 24_000;

export async function workerKillsScenario(t: TestContext, name: string): Promise<void> {
  const dir = workDir(`chaos-${name}`);
  const server = await ChaosServer.start(dir);
  const files = WorkerPool.files(dir);
  const taskQueue = uniqueId('tq');
  const pool = new WorkerPool(WorkerPool.env(() => server.address, taskQueue, files, settings.workMs));
  let client: Client | undefined;
  try {
    const began = Date.now();
    await pool.start(settings.workers);
    client = await testClient(server.address);
    const service = new TaskService(client, testStore(client, taskQueue));
    const id = uniqueId('chaos-kill');
    const spec = sinkTask(id, '*/2 * * * * *');
    const from = Date.now();
    await service.change({ action: 'create', taskId: id, actor: 'chaos', source: 'api', spec });

    // Kill the worker that holds the attempt in flight, some time into it, and start a new one in its place.
    const kills: { at: number; pid: number; key: string; attempt: number; intoMs: number }[] = [];
    const deadline = Date.now() + settings.budgetMs;
    while (kills.length < settings.kills && Date.now() < deadline) {
      const againSameFire = Math.random() < 0.2;
      const target = await waitFor(
        async () => {
          const events = readAttempts(files.attemptsFile);
          const ended = new Set(events.filter((e) => e.phase === 'end').map((e) => `${e.key}#${e.attempt}`));
          const live = new Set(pool.pids());
          return (
            events
              .filter((e) => e.phase === 'start' && !ended.has(`${e.key}#${e.attempt}`) && live.has(e.pid))
              .filter((e) => !kills.some((k) => k.key === e.key && k.attempt === e.attempt))
              // Mostly a fire not hit yet (so each kill's recovery shows); sometimes the retry of the last one.
              .filter((e) => e.key !== kills.at(-1)?.key || againSameFire)
              .at(-1)
          );
        },
        60_000,
        'an attempt in flight to kill',
      );
      const into = settings.workMs * (0.2 + Math.random() * 0.5);
      await sleep(Math.max(0, target.at + into - Date.now()));
      if (!pool.pids().includes(target.pid)) continue;
      pool.kill(target.pid);
      kills.push({
        at: Date.now(),
        pid: target.pid,
        key: target.key,
        attempt: target.attempt,
        intoMs: Date.now() - target.at,
      });
      pool.spawn();
      const [lo, hi] = settings.gapMs;
      await sleep(lo + Math.random() * (hi - lo));
    }
    // Quick recoveries can finish the kills early: the window still spans enough fires to judge (12 at */2).
    await sleep(from + MIN_WINDOW_MS - Date.now());
    const to = Date.now();
    const faultsDoneAt = to;

    // Let the backlog drain: every fire before `to` must succeed; then pause and wait for the last runs.
    await waitFor(
      async () => {
        const { summary } = await taskLedger(client!, id, new Date(from), new Date(to));
        return summary.succeeded === summary.expected && summary.running === 0 ? summary : undefined;
      },
      60_000,
      'every fire before the end of the faults to succeed',
    ).catch(() => undefined);
    const drainedAt = Date.now();
    await service.change({ action: 'pause', taskId: id, actor: 'chaos', source: 'api' });
    await waitFor(
      async () => ((await allRuns(client!, id)).some((r) => r.status === 'running') ? undefined : true),
      60_000,
      'the last runs to finish',
    );
    const ledger = await taskLedger(client, id, new Date(from), new Date(to));
    const runs = await allRuns(client, id);
    const sink = readSink(files.sinkFile);
    const attempts = readAttempts(files.attemptsFile);

    // Recovery: from each kill to the next completed run, and to the completion of the fire it interrupted.
    const closed = runs
      .filter((r) => r.status === 'succeeded' && r.closedAt)
      .map((r) => ({ at: Date.parse(r.closedAt!), key: `${id}@${r.nominalTime}` }));
    const recovery = kills.map((k) => {
      const next = Math.min(...closed.filter((c) => c.at > k.at).map((c) => c.at));
      const own = closed.find((c) => c.key === k.key)?.at;
      return { nextRunMs: next - k.at, killedFireMs: own ? own - k.at : Number.POSITIVE_INFINITY };
    });
    const extraAttempts = ledger.items.filter((i) => (i.attempts ?? 1) > 1);
    const sinkCounts = countBy(sink);
    const keyAttempts = countBy(attempts.filter((e) => e.phase === 'start').map((e) => e.key));
    const figures = {
      window: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), seconds: seconds(to - from) },
      workers: settings.workers,
      handlerWorkMs: settings.workMs,
      fires: {
        expected: ledger.summary.expected,
        executed: ledger.summary.succeeded,
        duplicated: ledger.summary.duplicates,
        missed: ledger.summary.missed,
        failed: ledger.summary.failed,
        running: ledger.summary.running,
      },
      faultsInjected: kills.length,
      killedIntoAttemptMs: {
        min: Math.min(...kills.map((k) => k.intoMs)),
        max: Math.max(...kills.map((k) => k.intoMs)),
      },
      firesWithExtraAttempts: extraAttempts.length,
      maxAttemptsOfOneFire: Math.max(...ledger.items.map((i) => i.attempts ?? 1)),
      attemptsStarted: attempts.filter((e) => e.phase === 'start').length,
      handlerReexecutions: [...keyAttempts.values()].reduce((n, c) => n + c - 1, 0),
      sink: { lines: sink.length, uniqueKeys: sinkCounts.size },
      kills: kills.map((k, i) => ({
        at: new Date(k.at).toISOString(),
        fire: k.key.split('@')[1],
        attempt: k.attempt,
        intoMs: k.intoMs,
        ...recovery[i],
      })),
      recoveryMs: {
        maxToNextCompletedRun: Math.max(...recovery.map((r) => r.nextRunMs)),
        p50ToNextCompletedRun: percentile(
          recovery.map((r) => r.nextRunMs),
          50,
        ),
        maxToKilledFireCompleted: Math.max(...recovery.map((r) => r.killedFireMs)),
      },
      drainAfterFaultsMs: drainedAt - faultsDoneAt,
      durationSeconds: seconds(Date.now() - began),
    };
    recordFigures(t, name, figures);

    assert.ok(kills.length >= settings.kills, `${kills.length} kills injected (wanted ${settings.kills})`);
    assert.ok(ledger.summary.expected >= 10, `enough fires in the window (${ledger.summary.expected})`);
    assert.equal(ledger.summary.duplicates, 0, 'no nominal time ran twice');
    assert.equal(ledger.summary.missed, 0, 'no fire was missed');
    assert.equal(ledger.summary.failed, 0, 'no fire failed for good');
    assert.equal(ledger.summary.succeeded, ledger.summary.expected, 'every fire in the window completed');
    for (const item of ledger.items) {
      assert.equal(item.outcome, 'succeeded', `${item.nominalTime} succeeded`);
      assert.equal(sinkCounts.get(`${id}@${item.nominalTime}`), 1, `${item.nominalTime} is in the sink once`);
    }
    assert.equal(sink.length, sinkCounts.size, 'the sink holds each idempotency key exactly once');
    assert.ok(extraAttempts.length >= 1, 'the ledger shows extra attempts for the interrupted fires');
    for (const kill of kills)
      assert.ok(
        ledger.items.some((i) => `${id}@${i.nominalTime}` === kill.key && i.outcome === 'succeeded') ||
          Date.parse(kill.key.split('@')[1]!) >= to,
        `the fire interrupted at ${new Date(kill.at).toISOString()} (${kill.key}) completed`,
      );
  } finally {
    pool.stop();
    await client?.connection.close();
    await server.stop();
  }
}
