import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { previewSchedule } from '../../src/tasks/preview.js';
import { taskLedger } from '../../src/runs/ledger.js';
import { TaskService } from '../../src/tasks/service.js';
import type { TaskSpec } from '../../src/tasks/spec.js';
import { countBy } from '../helpers/count.js';
import { workDir } from '../helpers/dirs.js';
import { testClient, testStore, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';
import {
  allRuns,
  ChaosServer,
  full,
  killAll,
  readAttempts,
  readSink,
  recordFigures,
  scale,
  seconds,
  sinkTask,
  uniqueId,
  WorkerPool,
} from './chaos-lib.js';

/**
 * The Temporal server is `kill -9`ed while two schedules fire and started again on the same SQLite file. Nothing
 * acknowledged may be lost, and the fires that fell in the outage (all younger than the 1 m catch-up window) must
 * run exactly once each after the restart.
 */
const settings = full
  ? { outages: 3, outageMs: 15_000, betweenMs: 12_000, warmupMs: 10_000 }
  : { outages: 1, outageMs: 15_000, betweenMs: 8_000, warmupMs: 8_000 };

const keyOf = (taskId: string, nominal: string): string => `${taskId}@${nominal}`;

describe(`chaos: Temporal server killed while schedules fire (${scale})`, () => {
  after(killAll);

  it('nothing acknowledged is lost; outage fires run once each after the restart', { timeout: 290_000 }, async (t) => {
    const dir = workDir('chaos-server-kill');
    const server = await ChaosServer.start(dir);
    const files = WorkerPool.files(dir);
    const taskQueue = uniqueId('tq');
    // Supervised: a worker that gives up while the server is away is started again, as systemd or k8s would.
    const pool = new WorkerPool(
      WorkerPool.env(() => server.address, taskQueue, files, 300),
      true,
    );
    let client: Client | undefined;
    try {
      const began = Date.now();
      await pool.start(2);
      client = await testClient(server.address);
      const specs: TaskSpec[] = [
        sinkTask(uniqueId('chaos-srv-a'), '*/2 * * * * *'),
        sinkTask(uniqueId('chaos-srv-b'), '*/3 * * * * *'),
      ];
      const from = Date.now();
      let service = new TaskService(client, testStore(client, taskQueue));
      for (const spec of specs)
        await service.change({ action: 'create', taskId: spec.id, actor: 'chaos', source: 'api', spec });
      await sleep(settings.warmupMs);

      const succeededKeys = async (c: Client): Promise<Set<string>> => {
        const keys = new Set<string>();
        for (const spec of specs)
          for (const run of await allRuns(c, spec.id))
            if (run.status === 'succeeded') keys.add(keyOf(spec.id, run.nominalTime));
        return keys;
      };

      const outages: {
        killedAt: number;
        restartedAt: number;
        restartMs: number;
        ackedBefore: number;
        lostAfterRestart: string[];
        outageFires: string[];
        caughtUpMs?: number;
      }[] = [];
      for (let i = 0; i < settings.outages; i++) {
        // Everything the server acknowledged as completed before the kill.
        const acked = await succeededKeys(client);
        await client.connection.close();
        client = undefined;
        server.kill();
        const killedAt = Date.now();
        await sleep(settings.outageMs);
        const restartMs = await server.restart();
        const restartedAt = Date.now();
        client = await testClient(server.address);
        service = new TaskService(client, testStore(client, taskQueue));
        const after = await succeededKeys(client);
        const outageFires = specs.flatMap((spec) =>
          previewSchedule(spec.schedule, { from: new Date(killedAt), count: 100 })
            .map((r) => r.at)
            .filter((at) => Date.parse(at) < restartedAt)
            .map((at) => keyOf(spec.id, at)),
        );
        const outage = {
          killedAt,
          restartedAt,
          restartMs,
          ackedBefore: acked.size,
          lostAfterRestart: [...acked].filter((key) => !after.has(key)),
          outageFires,
        };
        outages.push(outage);
        // Catch-up: every fire of the outage completes (they are all younger than the catch-up window).
        const c = client;
        const caughtUp = await waitFor(
          async () => {
            const done = await succeededKeys(c);
            return outageFires.every((key) => done.has(key)) ? Date.now() : undefined;
          },
          60_000,
          `the fires of outage ${i + 1} to catch up`,
        ).catch(() => undefined);
        if (caughtUp) Object.assign(outage, { caughtUpMs: caughtUp - restartedAt });
        const rest = settings.betweenMs - (Date.now() - restartedAt);
        if (rest > 0) await sleep(rest);
      }

      const to = Date.now();
      const c = client;
      await waitFor(
        async () => {
          for (const spec of specs) {
            const { summary } = await taskLedger(c, spec.id, new Date(from), new Date(to));
            if (summary.succeeded !== summary.expected || summary.running) return undefined;
          }
          return true;
        },
        60_000,
        'every fire before the end to succeed',
      ).catch(() => undefined);
      for (const spec of specs)
        await service.change({ action: 'pause', taskId: spec.id, actor: 'chaos', source: 'api' });
      await waitFor(
        async () => {
          for (const spec of specs)
            if ((await allRuns(c, spec.id)).some((r) => r.status === 'running')) return undefined;
          return true;
        },
        60_000,
        'the last runs to finish',
      );
      const ledgers = await Promise.all(specs.map((spec) => taskLedger(c, spec.id, new Date(from), new Date(to))));
      const finalKeys = await succeededKeys(c);
      const sink = readSink(files.sinkFile);
      const sinkCounts = countBy(sink);
      const attempts = readAttempts(files.attemptsFile).filter((e) => e.phase === 'start');
      const keyAttempts = countBy(attempts.map((e) => e.key));
      const total = (k: 'expected' | 'succeeded' | 'duplicates' | 'missed' | 'failed' | 'running'): number =>
        ledgers.reduce((n, l) => n + l.summary[k], 0);
      const figures = {
        window: { from: new Date(from).toISOString(), to: new Date(to).toISOString(), seconds: seconds(to - from) },
        tasks: specs.map((s) => ({ id: s.id, cron: s.schedule.cron })),
        fires: {
          expected: total('expected'),
          executed: total('succeeded'),
          duplicated: total('duplicates'),
          missed: total('missed'),
          failed: total('failed'),
          running: total('running'),
        },
        faultsInjected: outages.length,
        outages: outages.map((o) => ({
          killedAt: new Date(o.killedAt).toISOString(),
          downSeconds: seconds(o.restartedAt - o.killedAt),
          serverRestartMs: o.restartMs,
          completedRunsBeforeKill: o.ackedBefore,
          lostAfterRestart: o.lostAfterRestart.length,
          firesDuringOutage: o.outageFires.length,
          outageFiresCaughtUpMsAfterRestart: o.caughtUpMs ?? null,
        })),
        maxRecoveryMs: Math.max(...outages.map((o) => o.restartedAt - o.killedAt + (o.caughtUpMs ?? Infinity))),
        workerSelfRestarts: pool.restarts,
        attemptsStarted: attempts.length,
        handlerReexecutions: [...keyAttempts.values()].reduce((n, v) => n + v - 1, 0),
        sink: { lines: sink.length, uniqueKeys: sinkCounts.size },
        durationSeconds: seconds(Date.now() - began),
      };
      recordFigures(t, 'server-kill', figures);

      assert.equal(outages.length, settings.outages);
      for (const [i, o] of outages.entries()) {
        assert.ok(o.ackedBefore > 0, `runs had completed before outage ${i + 1}`);
        assert.deepEqual(o.lostAfterRestart, [], `nothing completed before outage ${i + 1} was lost`);
        assert.ok(o.outageFires.length >= 8, `outage ${i + 1} spanned fires (${o.outageFires.length})`);
        for (const key of o.outageFires) {
          assert.ok(finalKeys.has(key), `${key} (during outage ${i + 1}) ran after the restart`);
          assert.equal(sinkCounts.get(key), 1, `${key} reached the sink once`);
        }
        assert.ok(o.caughtUpMs !== undefined, `outage ${i + 1}'s fires caught up`);
      }
      for (const [i, ledger] of ledgers.entries()) {
        const what = specs[i]!.id;
        assert.equal(ledger.summary.duplicates, 0, `${what}: no nominal time ran twice`);
        assert.equal(ledger.summary.missed, 0, `${what}: nothing missed (every outage was within the catch-up window)`);
        assert.equal(ledger.summary.failed, 0, `${what}: nothing failed`);
        assert.equal(ledger.summary.succeeded, ledger.summary.expected, `${what}: every fire completed`);
      }
      assert.equal(sink.length, sinkCounts.size, 'sink keys are unique');
      for (const o of outages)
        for (const key of [...new Set(o.lostAfterRestart)]) assert.fail(`${key} was acknowledged and then lost`);
    } finally {
      pool.stop();
      await client?.connection.close();
      await server.stop();
    }
  });
});
