/**
 * Shared machinery of the chaos suite (`npm run test:chaos` at full scale, `npm test -- chaos` reduced): a dev
 * server of each test's own on a SQLite file it can `kill -9` and restart, worker and API processes it can
 * `kill -9` and restart, and the figures every test records.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { taskSpecSchema, type TaskSpec } from '../../src/tasks/spec.js';
import { root, spawnTs, type Spawned } from '../helpers/processes.js';
import { uniqueId } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';

export const scale: 'full' | 'reduced' = process.env.CHAOS_SCALE === 'full' ? 'full' : 'reduced';
export const full = scale === 'full';
export const workerScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
export const apiScript = join(root, 'src/api-server.ts');
export const seconds = (ms: number): number => Math.round(ms / 100) / 10;

export { KillableServer as ChaosServer } from '../helpers/killable-server.js';
/** Ends every process a chaos test started, by pid. */
export { killSpawned as killAll } from '../helpers/processes.js';

/** A chaos process (`node --import tsx script`), keeping the last 8000 characters of its output. */
const spawnChaos = (script: string, env: Record<string, string>): Spawned => spawnTs(script, { env, keep: 8000 });

/**
 * A task whose every fire runs the chaos worker's `sink` handler: fires buffered (none skipped while one runs), a
 * 1 m catch-up window, up to 10 attempts of at most 10 s with a 2 s heartbeat timeout.
 */
export function sinkTask(id: string, cron: string): TaskSpec {
  return taskSpecSchema.parse({
    id,
    schedule: { cron },
    handler: { type: 'function', name: 'sink' },
    overlap: 'buffer_all',
    catchupWindow: '1m',
    retry: { maxAttempts: 10 },
    timeouts: { attempt: '10s', heartbeat: '2s' },
  });
}

export interface WorkerFiles {
  sinkFile: string;
  attemptsFile: string;
}

/**
 * Worker processes on one task queue. With `supervise`, a worker that exits on its own (not killed by the test)
 * is started again after a second, as a process supervisor would.
 */
export class WorkerPool {
  readonly workers = new Map<number, Spawned & { ready: Promise<void> }>();
  restarts = 0;
  private stopping = false;
  private readonly killedByTest = new Set<number>();

  constructor(
    private readonly env: () => Record<string, string>,
    private readonly supervise = false,
  ) {}

  static files(dir: string): WorkerFiles {
    return { sinkFile: join(dir, 'sink.txt'), attemptsFile: join(dir, 'attempts.txt') };
  }

  static env(address: () => string, taskQueue: string, files: WorkerFiles, sleepMs = 1500) {
    return (): Record<string, string> => ({
      TEMPORAL_ADDRESS: address(),
      CHAOS_TASK_QUEUE: taskQueue,
      SURECRON_WORKFLOW_BUNDLE: process.env.SURECRON_TEST_BUNDLE ?? '',
      CHAOS_SINK_FILE: files.sinkFile,
      CHAOS_ATTEMPTS_FILE: files.attemptsFile,
      CHAOS_SLEEP_MS: String(sleepMs),
    });
  }

  /** Starts one worker; its `ready` resolves once it polls, and rejects if it exits first. */
  spawn(): Spawned & { ready: Promise<void> } {
    const spawned = spawnChaos(workerScript, this.env());
    const worker = { ...spawned, ready: spawned.untilOutput('chaos-worker ready') };
    worker.ready.catch(() => undefined);
    this.workers.set(worker.pid, worker);
    void worker.exited.then(async () => {
      this.workers.delete(worker.pid);
      if (this.stopping || this.killedByTest.has(worker.pid) || !this.supervise) return;
      this.restarts += 1;
      await sleep(1_000);
      if (!this.stopping) this.spawn();
    });
    return worker;
  }

  async start(count: number): Promise<void> {
    await Promise.all(Array.from({ length: count }, () => this.spawn().ready));
  }

  /** `kill -9` of one worker. */
  kill(pid: number): void {
    this.killedByTest.add(pid);
    process.kill(pid, 'SIGKILL');
  }

  /** SIGTERM to one worker (a deploy's stop): resolves with its exit code and how long its drain took. */
  async drain(pid: number): Promise<{ code: number | null; ms: number }> {
    const worker = this.workers.get(pid);
    if (!worker) throw new Error(`no worker ${pid}`);
    this.killedByTest.add(pid);
    const started = Date.now();
    process.kill(pid, 'SIGTERM');
    const code = await worker.exited;
    return { code, ms: Date.now() - started };
  }

  pids(): number[] {
    return [...this.workers.keys()];
  }

  stop(): void {
    this.stopping = true;
    for (const pid of this.pids()) process.kill(pid, 'SIGKILL');
  }
}

/** One attempt line of the attempts file. */
export interface AttemptEvent {
  at: number;
  pid: number;
  phase: 'start' | 'end';
  attempt: number;
  key: string;
}

export function readAttempts(file: string): AttemptEvent[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [at, pid, phase, attempt, key] = line.split(' ');
      return { at: Number(at), pid: Number(pid), phase: phase as 'start' | 'end', attempt: Number(attempt), key: key! };
    });
}

export function readSink(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

/** Every run of a task (all pages). */
export async function allRuns(client: Client, taskId: string): Promise<Run[]> {
  const runs: Run[] = [];
  let pageToken: string | undefined;
  do {
    const page = await listRuns(client, taskId, { pageSize: 1000, pageToken, includeErrors: false });
    runs.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}

/** Counts executions matching a visibility query. */
export async function countWorkflows(client: Client, query: string): Promise<number> {
  const { count } = await client.workflow.count(query);
  return count;
}

/** An API process (`src/api-server.ts`) on its own port; `kill -9` and restart it at will. */
export class ApiProcess {
  current?: Spawned;
  starts = 0;
  constructor(
    readonly port: number,
    readonly token: string,
    private readonly env: () => Record<string, string>,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts the API; resolves once `/livez` answers, with the time that took. */
  async start(): Promise<number> {
    const started = Date.now();
    this.starts += 1;
    const api = spawnChaos(apiScript, {
      ...this.env(),
      SURECRON_API_PORT: String(this.port),
      SURECRON_API_TOKEN: this.token,
      SURECRON_LOG_LEVEL: 'error',
      SURECRON_LOG_FORMAT: 'json',
    });
    this.current = api;
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (api.child.exitCode !== null || api.child.signalCode !== null)
        throw new Error(`API exited before ready: ${api.output().slice(-800)}`);
      if (Date.now() > deadline) throw new Error(`API not live after 60 s: ${api.output().slice(-800)}`);
      try {
        const response = await fetch(`${this.url}/livez`);
        if (response.ok) return Date.now() - started;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
  }

  kill(): void {
    if (!this.current) return;
    process.kill(this.current.pid, 'SIGKILL');
    this.current = undefined;
  }

  async request(method: string, path: string, body?: unknown): Promise<{ status: number; body: unknown }> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  }
}

/** Prints the figures as a test diagnostic and writes them to `test-results/chaos-<name>.json`. */
export function recordFigures(
  t: { diagnostic(message: string): void },
  name: string,
  figures: Record<string, unknown>,
): void {
  const all = { scenario: name, scale, at: new Date().toISOString(), ...figures };
  t.diagnostic(JSON.stringify(all));
  const dir = join(root, 'test-results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `chaos-${name}.json`), `${JSON.stringify(all, null, 2)}\n`);
}

export const percentile = (values: readonly number[], p: number): number | undefined => {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

export { uniqueId };
