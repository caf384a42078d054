import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import type { HandlerContext } from '../../src/activities/handler.js';
import { createHandlers } from '../../examples/index.js';
import { CIRCUIT_CALL_SIGNAL, circuitWorkflowId } from '../../src/contract/circuit.js';
import { workflowTypes } from '../../src/contract/workflow-types.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { TaskStore } from '../../src/tasks/store.js';
import { createSurecronWorker } from '../../src/boot/worker.js';
import { cadenceOf, mapLimit } from '../lib/cadence.js';
import type { Recorder, RunnerConfig, RunningSystem } from '../lib/protocol.js';
import { connect, deleteSchedule, runWorker } from './temporal-common.js';

const TASK_QUEUE = 'bench-surecron';
export const taskId = (i: number): string => `bench-${String(i).padStart(4, '0')}`;

/** A surecron worker with an injected `bench` handler that records each run's start, and the task store. */
export async function startSurecronWorker(
  config: RunnerConfig,
  record: Recorder,
): Promise<{ client: Client; store: TaskStore; stopWorker: () => Promise<void> }> {
  const { client, native } = await connect(config.address as string);
  const bench = async (_input: unknown, ctx: HandlerContext): Promise<void> => {
    const start = Date.now();
    record(Number(ctx.taskId.slice('bench-'.length)), Date.parse(ctx.nominalTime), start);
  };
  // A variable, not a literal: the worker's options grow (e.g. `client`) while this bench stays valid.
  const workerOptions = {
    connection: native,
    client,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    logger: pino({ level: 'silent' }),
    handlers: { ...createHandlers(), bench },
    workflowBundlePath: config.surecronBundle,
    workerOptions: { shutdownGraceTime: '2s', ...config.workerOptions },
  };
  const worker = await createSurecronWorker(workerOptions);
  const { stopWorker } = runWorker(worker, client, native);
  return { client, store: new TaskStore(client, TASK_QUEUE), stopWorker };
}

/**
 * surecron: tasks created through TaskStore, run by a surecron worker with an injected `bench` handler. The
 * tasks declare a 10 s attempt timeout, so `execution: 'auto'` runs them as local activities.
 */
export function startSurecron(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  return startTasks(config, record, 'auto');
}

/** The same tasks with `execution: 'activity'`: the handler as an activity task, as before local activities. */
export function startSurecronActivity(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  return startTasks(config, record, 'activity');
}

/**
 * The local-activity tasks, all in one concurrency group whose limit they never reach: what a group costs each
 * fire (a permit asked, granted and given back) when it holds nothing back.
 */
export function startSurecronGroup(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  return startTasks(config, record, 'auto', { concurrency: { group: 'bench', limit: 10_000 } });
}

/** The same in one rate group far above the load's rate: what a rate permit costs each fire. */
export function startSurecronRate(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  return startTasks(config, record, 'auto', { rateLimit: { group: 'bench', perSecond: 1000 } });
}

/**
 * The tasks behind one circuit breaker, closed, that once saw a failure (so its workflow exists and every attempt's
 * query is answered by a worker): what a breaker costs each fire when it holds nothing back. A breaker's attempts run
 * as activity tasks: compare with `surecron-activity`.
 */
export async function startSurecronCircuit(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  const { client, native } = await connect(config.address as string);
  const key = 'bench-dependency';
  const policy = { failures: 5, window: 10, openForMs: 5000 };
  // One failure, then enough successes to slide it out of the window: a closed breaker with a clean window.
  for (const failed of [true, ...Array<boolean>(10).fill(false)]) {
    await client.workflow.signalWithStart(workflowTypes.circuitBreaker, {
      workflowId: circuitWorkflowId(key),
      taskQueue: TASK_QUEUE,
      args: [{ key, policy }],
      signal: CIRCUIT_CALL_SIGNAL,
      signalArgs: [{ workflowId: 'bench-seed', taskId: 'bench-seed', failed, policy }],
    });
  }
  const running = await startTasks(config, record, 'auto', { circuitBreaker: { key } });
  return {
    stop: async () => {
      await running.stop();
      await client.workflow
        .getHandle(circuitWorkflowId(key))
        .terminate('bench over')
        .catch(() => undefined);
      await client.connection.close();
      await native.close();
    },
  };
}

async function startTasks(
  config: RunnerConfig,
  record: Recorder,
  execution: 'auto' | 'activity',
  groups: Record<string, unknown> = {},
): Promise<RunningSystem> {
  const { client, store, stopWorker } = await startSurecronWorker(config, record);
  const indexes = Array.from({ length: config.size }, (_, i) => i);
  const cadence = cadenceOf(config);
  await mapLimit(indexes, 16, async (i) => {
    const offset = cadence.offsetSeconds(i);
    const spec = taskSpecSchema.parse({
      id: taskId(i),
      schedule: { every: `${cadence.periodSeconds}s`, ...(offset ? { offset: `${offset}s` } : {}) },
      handler: { type: 'function', name: 'bench' },
      timeouts: { attempt: '10s' },
      execution,
      ...groups,
    });
    await store.create(spec, 'api');
  });
  return {
    stop: async () => {
      await mapLimit(indexes, 16, (i) => deleteSchedule(client, taskId(i)));
      await stopWorker();
    },
  };
}
