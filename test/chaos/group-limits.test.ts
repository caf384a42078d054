import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { taskLedger } from '../../src/runs/ledger.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { countBy, mostAtOnce } from '../helpers/count.js';
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
  sinkTask,
  uniqueId,
  WorkerPool,
  type AttemptEvent,
} from './chaos-lib.js';

const WORKERS = 3;
const TASKS = 6;
const LIMIT = 3;
/** 6 fires a second of 600 ms each need 3.6 permits: the group is always full and fires queue. */
const WORK_MS = 600;

/** The most attempts going at once across every worker process; a killed process's attempts end at its kill. */
function maxConcurrent(events: readonly AttemptEvent[], kills: ReadonlyMap<number, number>): number {
  const id = (event: AttemptEvent) => `${event.pid} ${event.key} ${event.attempt}`;
  const ends = new Map(events.filter((e) => e.phase === 'end').map((e) => [id(e), e.at]));
  return mostAtOnce(
    events
      .filter((e) => e.phase === 'start')
      .map((e) => ({ start: e.at, end: ends.get(id(e)) ?? kills.get(e.pid) ?? Infinity })),
  );
}

/**
 * A concurrency group's limit across 3 worker processes, one of them `kill -9`ed in the middle of an attempt: the
 * attempts going at once, counted from every process's own record, never exceed the limit, and every fire runs
 * once.
 */
describe('chaos: a concurrency group across 3 workers and a kill -9', () => {
  after(killAll);

  it('never more than 3 attempts at once; every fire runs exactly once', { timeout: 200_000 }, async (t) => {
    const dir = workDir('chaos-group-limits');
    const server = await ChaosServer.start(dir);
    const files = WorkerPool.files(dir);
    const taskQueue = uniqueId('tq');
    const pool = new WorkerPool(WorkerPool.env(() => server.address, taskQueue, files, WORK_MS));
    const group = uniqueId('grp');
    const kills = new Map<number, number>();
    let client: Client | undefined;
    try {
      await pool.start(WORKERS);
      client = await testClient(server.address);
      const service = new TaskService(client, testStore(client, taskQueue));
      const ids = Array.from({ length: TASKS }, () => uniqueId('chaos-grp'));
      const from = Date.now();
      for (const id of ids) {
        const spec = taskSpecSchema.parse({
          ...sinkTask(id, '* * * * * *'),
          overlap: 'allow_all',
          concurrency: { group, limit: LIMIT },
        });
        await service.change({ action: 'create', taskId: id, actor: 'chaos', source: 'api', spec });
      }
      await sleep(5000);
      // kill -9 a worker while it runs an attempt of the group, then replace it.
      const victim = await waitFor(
        () => {
          const events = readAttempts(files.attemptsFile);
          const open = events.filter(
            (e) =>
              e.phase === 'start' &&
              !events.some((o) => o.phase === 'end' && o.pid === e.pid && o.key === e.key && o.attempt === e.attempt),
          );
          return Promise.resolve(open.find((e) => pool.pids().includes(e.pid))?.pid);
        },
        10_000,
        'a worker in the middle of an attempt',
        20,
      );
      pool.kill(victim);
      kills.set(victim, Date.now());
      await pool.spawn().ready;
      await sleep(5000);
      const to = Date.now() - 2000;
      for (const id of ids) await service.change({ action: 'pause', taskId: id, actor: 'chaos', source: 'api' });
      await waitFor(
        async () => {
          const runs = (await Promise.all(ids.map((id) => allRuns(client!, id)))).flat();
          return runs.every((run) => run.status !== 'running') ? true : undefined;
        },
        120_000,
        'every run of the group to close',
      );
      const ledgers = await Promise.all(ids.map((id) => taskLedger(client!, id, new Date(from), new Date(to))));
      const sum = (pick: (s: (typeof ledgers)[number]['summary']) => number): number =>
        ledgers.reduce((total, l) => total + pick(l.summary), 0);
      const runs = (await Promise.all(ids.map((id) => allRuns(client!, id)))).flat();
      const keys = new Set(runs.map((r) => `${ids.find((id) => r.workflowId.startsWith(id))}@${r.nominalTime}`));
      const sink = readSink(files.sinkFile).filter((key) => keys.has(key));
      const attempts = readAttempts(files.attemptsFile).filter((e) => keys.has(e.key));
      const figures = {
        workers: WORKERS,
        tasks: TASKS,
        limit: LIMIT,
        maxConcurrent: maxConcurrent(attempts, kills),
        fires: {
          expected: sum((s) => s.expected),
          succeeded: sum((s) => s.succeeded),
          missed: sum((s) => s.missed),
          doubled: sum((s) => s.duplicates),
          failed: sum((s) => s.failed),
        },
        runs: runs.length,
        extraAttempts: attempts.filter((e) => e.phase === 'start').length - keys.size,
      };
      recordFigures(t, 'group-limits', figures);

      assert.equal(figures.maxConcurrent, LIMIT, 'the limit is reached and never passed');
      assert.ok(figures.fires.expected >= TASKS * 8, `${figures.fires.expected} fires expected`);
      assert.equal(figures.fires.missed, 0, 'no fire missed');
      assert.equal(figures.fires.doubled, 0, 'no fire run twice');
      assert.equal(figures.fires.failed, 0);
      assert.equal(figures.fires.succeeded, figures.fires.expected);
      assert.ok(figures.extraAttempts >= 1, 'the killed attempt was retried');
      assert.deepEqual(
        Object.values(countBy(sink)).filter((n) => n > 1),
        [],
        'each fire’s side effect once',
      );
      assert.equal(sink.length, keys.size);
    } finally {
      pool.stop();
      await client?.connection.close();
      await server.stop();
    }
  });
});
