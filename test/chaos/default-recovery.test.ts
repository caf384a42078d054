import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { taskLedger } from '../../src/runs/ledger.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { taskDefaults } from '../../src/tasks/task-defaults.js';
import { workDir } from '../helpers/dirs.js';
import { testClient, testStore, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';
import { ChaosServer, killAll, readAttempts, readSink, recordFigures, uniqueId, WorkerPool } from './chaos-lib.js';

const WORK_MS = 1500;
const LIVENESS_MS = Number.parseInt(taskDefaults.livenessTimeout, 10) * 1000;
/** A lost attempt waits out the liveness timeout, then the first backoff (1 s), then runs its 1.5 s again. */
const BOUND_MS = LIVENESS_MS + 1000 + WORK_MS + 4000;

/**
 * A task as users write it: no timeouts, no heartbeat, a handler that never heartbeats. Its worker is `kill -9`ed
 * in the middle of an attempt; the fire must complete on another worker within seconds (the liveness timeout the
 * worker heartbeats against), not after the 5 min attempt timeout.
 */
describe('chaos: a worker killed mid-attempt under default policies', () => {
  after(killAll);

  it(
    `the interrupted fire completes within ${BOUND_MS / 1000} s, once, as attempt 2`,
    { timeout: 120_000 },
    async (t) => {
      const dir = workDir('chaos-default-recovery');
      const server = await ChaosServer.start(dir);
      const files = WorkerPool.files(dir);
      const taskQueue = uniqueId('tq');
      const pool = new WorkerPool(WorkerPool.env(() => server.address, taskQueue, files, WORK_MS));
      let client: Client | undefined;
      try {
        await pool.start(1);
        client = await testClient(server.address);
        const service = new TaskService(client, testStore(client, taskQueue));
        const id = uniqueId('chaos-default');
        const spec = taskSpecSchema.parse({
          id,
          schedule: { cron: '*/10 * * * * *' },
          handler: { type: 'function', name: 'quietSink' },
          retry: { maxAttempts: 10 },
        });
        assert.equal(spec.timeouts, undefined, 'default timeouts: no attempt timeout, no heartbeat declared');
        await service.change({ action: 'create', taskId: id, actor: 'chaos', source: 'api', spec });

        const target = await waitFor(
          () => Promise.resolve(readAttempts(files.attemptsFile).find((e) => e.phase === 'start')),
          30_000,
          'a first attempt',
        );
        await sleep(Math.max(0, target.at + WORK_MS / 2 - Date.now()));
        const killedAt = Date.now();
        pool.kill(target.pid);
        await pool.spawn().ready;
        const done = await waitFor(
          () =>
            Promise.resolve(readAttempts(files.attemptsFile).find((e) => e.phase === 'end' && e.key === target.key)),
          90_000,
          'the interrupted fire to complete',
        );
        const recoveryMs = done.at - killedAt;
        await service.change({ action: 'pause', taskId: id, actor: 'chaos', source: 'api' });
        const nominal = target.key.slice(target.key.indexOf('@') + 1);
        // The run closes on its next workflow task, which first waits out the dead worker's sticky queue.
        const ledger = await waitFor(
          async () => {
            const window = [new Date(Date.parse(nominal)), new Date(Date.parse(nominal) + 1000)] as const;
            const found = await taskLedger(client!, id, ...window);
            return found.items[0]?.outcome === 'running' ? undefined : found;
          },
          30_000,
          'the interrupted run to close',
        );
        recordFigures(t, 'default-recovery', {
          livenessTimeoutMs: LIVENESS_MS,
          killedIntoAttemptMs: killedAt - target.at,
          recoveryMs,
          boundMs: BOUND_MS,
          attempts: readAttempts(files.attemptsFile).filter((e) => e.key === target.key && e.phase === 'start').length,
        });

        assert.ok(recoveryMs < BOUND_MS, `completed ${recoveryMs} ms after the kill (bound ${BOUND_MS} ms)`);
        assert.equal(done.attempt, 2, 'the retry is attempt 2');
        assert.notEqual(done.pid, target.pid);
        assert.equal(readSink(files.sinkFile).filter((key) => key === target.key).length, 1, 'side effect once');
        assert.equal(ledger.items.length, 1);
        assert.equal(ledger.items[0]?.outcome, 'succeeded');
        assert.equal(ledger.items[0]?.attempts, 2);
      } finally {
        pool.stop();
        await client?.connection.close();
        await server.stop();
      }
    },
  );
});
