import type { Client } from '@temporalio/client';
import { pino } from 'pino';
import type { HandlerContext } from '../../src/activities/handler.js';
import { createHandlers } from '../../examples/index.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { TaskStore } from '../../src/tasks/store.js';
import { createSurecronWorker } from '../../src/boot/worker.js';
import { mapLimit, offsetSeconds } from '../lib/cadence.js';
import type { Recorder, RunnerConfig, RunningSystem } from '../lib/protocol.js';
import { connect, deleteSchedule, runWorker } from './temporal-common.js';

const TASK_QUEUE = 'bench-surecron';
const taskId = (i: number): string => `bench-${String(i).padStart(4, '0')}`;

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
    workerOptions: { shutdownGraceTime: '2s' },
  };
  const worker = await createSurecronWorker(workerOptions);
  const { stopWorker } = runWorker(worker, client, native);
  return { client, store: new TaskStore(client, TASK_QUEUE), stopWorker };
}

/** surecron: tasks created through TaskStore, run by a surecron worker with an injected `bench` handler. */
export async function startSurecron(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  const { client, store, stopWorker } = await startSurecronWorker(config, record);
  const indexes = Array.from({ length: config.size }, (_, i) => i);
  await mapLimit(indexes, 16, async (i) => {
    const offset = offsetSeconds(i);
    const spec = taskSpecSchema.parse({
      id: taskId(i),
      schedule: { every: '10s', ...(offset ? { offset: `${offset}s` } : {}) },
      handler: { type: 'function', name: 'bench' },
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
