import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';

let runtimeInstalled = false;

/** A Temporal Runtime that only logs errors (the bench prints its own progress). */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  Runtime.install({
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    shutdownSignals: [],
    telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
  });
}

export async function connect(address: string): Promise<{ client: Client; native: NativeConnection }> {
  quietRuntime();
  const connection = await Connection.connect({ address });
  const native = await NativeConnection.connect({ address });
  return { client: new Client({ connection, namespace: 'default' }), native };
}

/** Runs the worker in the background; `stop` shuts it down and closes both connections. */
export function runWorker(
  worker: Worker,
  client: Client,
  native: NativeConnection,
): { stopWorker: () => Promise<void> } {
  const running = worker.run();
  return {
    stopWorker: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await native.close();
      await client.connection.close();
    },
  };
}

/** Deletes schedules, tolerating ones already gone. */
export async function deleteSchedule(client: Client, id: string): Promise<void> {
  try {
    await client.schedule.getHandle(id).delete();
  } catch {
    // already gone
  }
}
