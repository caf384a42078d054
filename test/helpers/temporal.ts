import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time.js';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { randomUUID } from 'node:crypto';
import { pino, type Logger } from 'pino';
import type { HandlerRegistry } from '../../src/activities/handler.js';
import type { AlertsConfig } from '../../src/alerting/channels/config.js';
import type { TaskMetrics } from '../../src/metrics/task-metrics.js';
import type { UserActivity } from '../../src/activities/user-code.js';
import { TaskStore } from '../../src/tasks/store.js';
import { createSurecronWorker } from '../../src/boot/worker.js';
import { quietRuntime } from '../../src/testing/index.js';
import { exampleCode } from '../../examples/index.js';

/** The dev server `npm test` started. */
export function testAddress(): string {
  const address = process.env.TEMPORAL_ADDRESS;
  if (!address) throw new Error('TEMPORAL_ADDRESS is not set: run tests with `npm test`');
  return address;
}

/** A unique id for one test: tasks, task queues and schedules never collide between tests or runs. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export const quietLogger: Logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export { quietRuntime };

/** The user code of the test deployment: `src/user/` and the seed examples, with their in-memory stand-ins. */
export const testCode = exampleCode();

export async function testClient(address = testAddress()): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace: 'default' });
}

export interface TestWorkerOptions {
  taskQueue: string;
  handlers?: HandlerRegistry;
  /** Activities of user workflows; default the test deployment's (the examples' `syncOrders` on recording fakes). */
  userActivities?: Readonly<Record<string, UserActivity>>;
  httpAllowlist?: string;
  address?: string;
  alerts?: AlertsConfig;
  callbackSecret?: string;
  metrics?: TaskMetrics;
  logger?: Logger;
}

/**
 * A surecron worker of the test deployment ({@link testCode}; `handlers` add to its own) on its own task queue,
 * using the bundle `npm test` built once.
 */
export async function testWorker(
  options: TestWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  quietRuntime();
  const connection = await NativeConnection.connect({ address: options.address ?? testAddress() });
  const client = await testClient(options.address);
  connection.close = ((close) => async () => {
    await client.connection.close();
    return close();
  })(connection.close.bind(connection));
  const worker = await createSurecronWorker({
    connection,
    client,
    namespace: 'default',
    taskQueue: options.taskQueue,
    logger: options.logger ?? quietLogger,
    handlers: { ...testCode.handlers, ...options.handlers },
    userActivities: options.userActivities ?? testCode.activities,
    httpAllowlist: options.httpAllowlist ?? '127.0.0.1,localhost',
    workflowBundlePath: process.env.SURECRON_TEST_BUNDLE,
    workerOptions: { shutdownGraceTime: '1s', shutdownForceTime: '5s' },
    ...(options.alerts ? { alerts: options.alerts } : {}),
    ...(options.callbackSecret ? { callbackSecret: options.callbackSecret } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
  });
  return { worker, connection };
}

export function testStore(client: Client, taskQueue: string): TaskStore {
  return new TaskStore(client, taskQueue);
}

export { waitFor } from '../../src/util/wait.js';

const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * The server's fire times (ms) for a schedule in [from, to), from ListScheduleMatchingTimes. The server answers it
 * by querying the schedule's own workflow, which times out when a loaded machine is slow to take the query; a read,
 * it is retried a few times on DEADLINE_EXCEEDED.
 */
export async function serverMatchingTimes(
  client: Client,
  scheduleId: string,
  from: number,
  to: number,
): Promise<number[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await client.workflowService.listScheduleMatchingTimes({
        namespace: client.options.namespace,
        scheduleId,
        startTime: msToTs(from),
        endTime: msToTs(to),
      });
      return (response.startTime ?? []).map((t) => Number(t.seconds) * 1000);
    } catch (error) {
      if ((error as { code?: number }).code !== GRPC_DEADLINE_EXCEEDED || attempt === 4) throw error;
      await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
    }
  }
}
