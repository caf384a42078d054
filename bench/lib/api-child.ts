/**
 * What bench/api.ts and bench/load.ts share: a child process running a surecron worker and the HTTP API (as
 * `npm start` runs them, so load generators never share the API's event loop), and the machine description.
 */
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime } from '@temporalio/worker';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { HandlerRegistry } from '../../src/activities/handler.js';
import { buildApp } from '../../src/api/app.js';
import { TEMPORAL_CLI_VERSION } from '../../src/temporal/cli.js';
import { testRules } from '../../test/helpers/rules.js';
import { TaskService } from '../../src/tasks/service.js';
import { TaskStore } from '../../src/tasks/store.js';
import { createSurecronWorker } from '../../src/boot/worker.js';

export const root = new URL('../..', import.meta.url).pathname;
export const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
export const log = (line: string): void => {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

/** How the driver tells the child what to serve (JSON in the `BENCH_API_CHILD` environment variable). */
export interface ApiChildConfig {
  address: string;
  bundle: string;
  port: number;
  taskQueue: string;
  token: string;
}

/** The child's answer to a message other than `stop`, if any. */
export type ChildRequestHandler = (type: string) => unknown;

/** The config when this process was started as an API child, else undefined. */
export function apiChildConfig(): ApiChildConfig | undefined {
  const raw = process.env.BENCH_API_CHILD;
  return raw ? (JSON.parse(raw) as ApiChildConfig) : undefined;
}

/** Child mode: serves the worker and the API until the driver sends `stop`. */
export async function serveApiChild(
  { address, bundle, port, taskQueue, token }: ApiChildConfig,
  { handlers, onRequest }: { handlers?: HandlerRegistry; onRequest?: ChildRequestHandler } = {},
): Promise<void> {
  Runtime.install({
    logger: silent,
    shutdownSignals: [],
    telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
  });
  const logger = pino({ level: 'error' });
  const client = new Client({ connection: await Connection.connect({ address }), namespace: 'default' });
  const connection = await NativeConnection.connect({ address });
  const worker = await createSurecronWorker({
    connection,
    client,
    namespace: 'default',
    taskQueue,
    logger,
    ...(handlers ? { handlers } : {}),
    workflowBundlePath: bundle,
    workerOptions: { shutdownGraceTime: '1s' },
  });
  const running = worker.run();
  const app = await buildApp({
    service: new TaskService(client, new TaskStore(client, taskQueue)),
    rules: testRules('127.0.0.1,localhost'),
    logger,
    apiToken: token,
    readiness: async () => Promise.resolve({ ready: true, checks: {} }),
    // The load generators share one token: measure the API, not the per-caller limit (SURECRON_API_RATE_LIMIT).
    rateLimitPerMinute: 1_000_000_000,
  });
  await app.listen({ host: '127.0.0.1', port });
  process.send?.({ type: 'ready' });
  process.on('message', (message: { type: string }) => {
    if (message.type !== 'stop') {
      const answer = onRequest?.(message.type);
      if (answer !== undefined) process.send?.(answer);
      return;
    }
    void (async () => {
      await app.close();
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
      await client.connection.close();
      process.exit(0);
    })();
  });
}

/** Driver side: starts `script` as an API child and resolves once it listens. */
export async function startApiChild(script: string, config: ApiChildConfig): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'bench', script)], {
    cwd: root,
    env: { ...process.env, BENCH_API_CHILD: JSON.stringify(config) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`worker/API process exited (${code}) before it was ready`)));
  });
  return child;
}

/** Asks the child to stop, killing it if it has not exited within 10 s. */
export async function stopApiChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
}

export function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'not installed';
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  os: string;
  node: string;
  temporal: string;
  temporalSdk: string;
}

/** The machine a benchmark ran on, and the Temporal it ran against. */
export function machine(binary: string | undefined, source: string): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const os = /PRETTY_NAME="([^"]+)"/.exec(existsSync('/etc/os-release') ? readFileSync('/etc/os-release', 'utf8') : '');
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: cpus().length,
    ramGb: Math.round(totalmem() / 2 ** 30),
    os: `${os?.[1] ?? 'Linux'}, kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}`,
    node: process.version,
    temporal: `CLI ${TEMPORAL_CLI_VERSION} (${binary ?? source}), dev server (SQLite file)`,
    temporalSdk: packageVersion('@temporalio/worker'),
  };
}
