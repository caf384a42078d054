import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
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
  killAll,
  readAttempts,
  readSink,
  recordFigures,
  seconds,
  sinkTask,
  uniqueId,
  WorkerPool,
} from './chaos-lib.js';

const WORKERS = 3;
const TASKS = 3;
const WORK_MS = 400;
/** A late run: started more than this after its nominal time. */
const LATE_MS = 2000;

/**
 * A deploy's rolling restart: 3 workers, each told to stop (SIGTERM) in turn and replaced, while 3 tasks fire every
 * second. A stopping worker finishes its attempts within its grace time (or hands them back, cancelled, to be
 * retried elsewhere); no fire may be lost or run twice.
 */
describe('chaos: rolling restart of 3 workers while tasks fire every second', () => {
  after(killAll);

  it('every fire runs exactly once; each worker drains within its grace time', { timeout: 150_000 }, async (t) => {
    const dir = workDir('chaos-rolling-restart');
    const server = await ChaosServer.start(dir);
    const files = WorkerPool.files(dir);
    const taskQueue = uniqueId('tq');
    const pool = new WorkerPool(WorkerPool.env(() => server.address, taskQueue, files, WORK_MS));
    let client: Client | undefined;
    try {
      await pool.start(WORKERS);
      client = await testClient(server.address);
      const service = new TaskService(client, testStore(client, taskQueue));
      const ids = Array.from({ length: TASKS }, () => uniqueId('chaos-roll'));
      const from = Date.now();
      for (const id of ids)
        await service.change({
          action: 'create',
          taskId: id,
          actor: 'chaos',
          source: 'api',
          spec: sinkTask(id, '* * * * * *'),
        });
      await sleep(4000);

      const drains: { pid: number; code: number | null; ms: number; replacementReadyMs: number }[] = [];
      for (const pid of pool.pids()) {
        const drained = await pool.drain(pid);
        const spawnedAt = Date.now();
        await pool.spawn().ready;
        drains.push({ pid, ...drained, replacementReadyMs: Date.now() - spawnedAt });
        await sleep(3000);
      }
      const to = Date.now();

      await waitFor(
        async () => {
          const ledgers = await Promise.all(ids.map((id) => taskLedger(client!, id, new Date(from), new Date(to))));
          return ledgers.every((l) => l.summary.succeeded === l.summary.expected && l.summary.running === 0)
            ? true
            : undefined;
        },
        60_000,
        'every fire of the window to succeed',
      ).catch(() => undefined);
      for (const id of ids) await service.change({ action: 'pause', taskId: id, actor: 'chaos', source: 'api' });
      const ledgers = await Promise.all(ids.map((id) => taskLedger(client!, id, new Date(from), new Date(to))));
      const runs = (await Promise.all(ids.map((id) => allRuns(client!, id)))).flat();
      const inWindow = runs.filter((r) => Date.parse(r.nominalTime) >= from && Date.parse(r.nominalTime) < to);
      const lateness = inWindow
        .filter((r) => r.startedAt)
        .map((r) => Date.parse(r.startedAt) - Date.parse(r.nominalTime));
      const keys = new Set(inWindow.map((r) => `${ids.find((id) => r.workflowId.startsWith(id))}@${r.nominalTime}`));
      const sink = readSink(files.sinkFile).filter((key) => keys.has(key));
      const attempts = readAttempts(files.attemptsFile).filter((e) => e.phase === 'start' && keys.has(e.key));
      const sum = (pick: (s: (typeof ledgers)[number]['summary']) => number): number =>
        ledgers.reduce((total, l) => total + pick(l.summary), 0);
      const figures = {
        window: { seconds: seconds(to - from) },
        workers: WORKERS,
        tasks: TASKS,
        drains,
        fires: {
          expected: sum((s) => s.expected),
          executed: sum((s) => s.succeeded),
          late: lateness.filter((ms) => ms > LATE_MS).length,
          missed: sum((s) => s.missed),
          doubled: sum((s) => s.duplicates),
          failed: sum((s) => s.failed),
        },
        latenessMs: { max: Math.max(...lateness), over2s: lateness.filter((ms) => ms > LATE_MS).length },
        extraAttempts: attempts.length - keys.size,
      };
      recordFigures(t, 'rolling-restart', figures);

      assert.equal(drains.length, WORKERS);
      for (const drain of drains) {
        assert.equal(drain.code, 0, `worker ${drain.pid} exits cleanly on SIGTERM`);
        assert.ok(drain.ms < 10_000, `worker ${drain.pid} drained in ${drain.ms} ms`);
      }
      assert.ok(figures.fires.expected >= TASKS * 12, `${figures.fires.expected} fires expected`);
      assert.equal(figures.fires.missed, 0, 'no fire missed');
      assert.equal(figures.fires.doubled, 0, 'no fire run twice');
      assert.equal(figures.fires.failed, 0);
      assert.equal(figures.fires.executed, figures.fires.expected);
      assert.deepEqual(
        Object.values(countBy(sink)).filter((n) => n > 1),
        [],
        'each fire’s side effect once',
      );
      assert.equal(sink.length, figures.fires.expected);
    } finally {
      pool.stop();
      await client?.connection.close();
      await server.stop();
    }
  });
});
