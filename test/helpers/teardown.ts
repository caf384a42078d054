import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { testWorker, type TestWorkerOptions } from './temporal.js';

/** A test worker polling in the background, for a suite that shares one between its tests. */
export interface RunningWorker {
  worker: Worker;
  /** Shuts the worker down, waits until it stopped and closes its connections. */
  stop(): Promise<void>;
}

/** Starts `testWorker(options)` and runs it until `stop()` (in the suite's `after`). */
export async function runTestWorker(options: TestWorkerOptions): Promise<RunningWorker> {
  const { worker, connection } = await testWorker(options);
  const running = worker.run();
  // Rethrown by stop(): a worker failing mid-suite fails the suite's tests, not the test process.
  running.catch(() => undefined);
  return {
    worker,
    async stop() {
      worker.shutdown();
      await running;
      await connection.close();
    },
  };
}

/** Deletes the schedules of `ids` one after another; one already gone (or never created) is no error. */
export async function deleteSchedules(client: Client, ids: Iterable<string>): Promise<void> {
  for (const id of ids) {
    await client.schedule
      .getHandle(id)
      .delete()
      .catch((error: unknown) => {
        if (!(error instanceof ScheduleNotFoundError)) throw error;
      });
  }
}
