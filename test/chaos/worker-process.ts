/**
 * A surecron worker as its own process, for the chaos tests to `kill -9`. Its one handler, `sink`, is an
 * idempotent side effect keyed by the idempotency key: it appends the key to the sink file only if the key is not
 * there yet, then works for `CHAOS_SLEEP_MS` while heartbeating (`quietSink`: the same without heartbeats). Every attempt is also appended to the attempts
 * file (`<ms> <pid> start|end <attempt> <key>`), so the test can see which process holds an activity right now.
 *
 * Env: TEMPORAL_ADDRESS, CHAOS_TASK_QUEUE, SURECRON_WORKFLOW_BUNDLE, CHAOS_SINK_FILE, CHAOS_ATTEMPTS_FILE,
 * CHAOS_SLEEP_MS (default 1500).
 */
import { NativeConnection, Runtime } from '@temporalio/worker';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { pino } from 'pino';
import type { HandlerContext } from '../../src/activities/handler.js';
import { createHandlers } from '../../examples/index.js';
import { connectClient } from '../../src/client.js';
import { createSurecronWorker } from '../../src/boot/worker.js';
import { silentSdkLogger } from '../../src/temporal/runtime-logger.js';
import { sleep } from '../helpers/time.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};

const address = env('TEMPORAL_ADDRESS');
const taskQueue = env('CHAOS_TASK_QUEUE');
const sinkFile = env('CHAOS_SINK_FILE');
const attemptsFile = env('CHAOS_ATTEMPTS_FILE');
const workMs = Number(process.env.CHAOS_SLEEP_MS ?? 1500);
const record = (phase: 'start' | 'end', ctx: HandlerContext): void =>
  appendFileSync(attemptsFile, `${Date.now()} ${process.pid} ${phase} ${ctx.attempt} ${ctx.idempotencyKey}\n`);

async function sink(_input: unknown, ctx: HandlerContext, beat = true): Promise<{ pid: number }> {
  record('start', ctx);
  const done = existsSync(sinkFile) ? readFileSync(sinkFile, 'utf8').split('\n') : [];
  if (!done.includes(ctx.idempotencyKey)) appendFileSync(sinkFile, `${ctx.idempotencyKey}\n`);
  const until = Date.now() + workMs;
  while (Date.now() < until) {
    if (beat) ctx.heartbeat();
    await sleep(Math.min(250, until - Date.now()));
  }
  record('end', ctx);
  return { pid: process.pid };
}

/** The sink of a handler written without heartbeats, as most are. */
const quietSink = (input: unknown, ctx: HandlerContext): Promise<{ pid: number }> => sink(input, ctx, false);

async function main(): Promise<void> {
  Runtime.install({
    logger: silentSdkLogger,
    shutdownSignals: [],
    telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const client = await connectClient({ address, namespace: 'default' });
  const connection = await NativeConnection.connect({ address });
  const worker = await createSurecronWorker({
    connection,
    client,
    namespace: 'default',
    taskQueue,
    logger: pino({ level: 'silent' }),
    // The API accepts only the built-in handler names, so API-created chaos tasks name `heartbeat`: this worker
    // runs the sink under that name too.
    handlers: { ...createHandlers(), sink, quietSink, heartbeat: sink },
    workflowBundlePath: process.env.SURECRON_WORKFLOW_BUNDLE,
    workerOptions: { shutdownGraceTime: '1s' },
  });
  process.on('SIGTERM', () => worker.getState() === 'RUNNING' && worker.shutdown());
  process.stdout.write(`chaos-worker ready ${process.pid}\n`);
  await worker.run();
  await connection.close();
  await client.connection.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`chaos-worker ${process.pid}: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
