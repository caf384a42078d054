/**
 * Shared machinery of the chaos suite (`npm run test:chaos` at full scale, `npm test -- chaos` reduced): a dev
 * server of each test's own on a SQLite file it can `kill -9` and restart, worker and API processes it can
 * `kill -9` and restart, and the figures every test records.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { uniqueId } from '../helpers/temporal.js';

export const scale: 'full' | 'reduced' = process.env.CHAOS_SCALE === 'full' ? 'full' : 'reduced';
export const full = scale === 'full';
export const root = fileURLToPath(new URL('../..', import.meta.url));
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
export const workerScript = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
export const apiScript = join(root, 'src/api-server.ts');
export const seconds = (ms: number): number => Math.round(ms / 100) / 10;

/** A directory of this test's own under npm test's work dir (removed with it). */
export function chaosDir(name: string): string {
  const base = process.env.SURECRON_TEST_WORKDIR ?? tmpdir();
  return mkdtempSync(join(base, `chaos-${name}-`));
}

export { KillableServer as ChaosServer } from '../helpers/killable-server.js';

/** Every child process a chaos test started; `killAll` ends them by pid. */
const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Resolves when the process printed `readyLine` (or, without one, at once); rejects if it exits first. */
  ready: Promise<void>;
  exited: Promise<void>;
  output(): string;
}

/** Runs a TypeScript file as its own node process (`node --import tsx file`). */
export function spawnTs(script: string, env: Record<string, string>, readyLine?: string): Spawned {
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => children.delete(child));
  const ready = new Promise<void>((resolve, reject) => {
    const collect = (chunk: Buffer): void => {
      out = (out + chunk.toString('utf8')).slice(-8000);
      if (readyLine && out.includes(readyLine)) resolve();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    if (!readyLine) resolve();
    void exited.then(() =>
      reject(new Error(`${script} exited (${child.exitCode ?? child.signalCode}) before ready: ${out.slice(-800)}`)),
    );
  });
  ready.catch(() => undefined);
  if (!child.pid) throw new Error(`could not spawn ${script}`);
  return { child, pid: child.pid, ready, exited, output: () => out };
}

export function killAll(): void {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
  readonly workers = new Map<number, Spawned>();
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

  /** Starts one worker; resolves with it once it polls. */
  spawn(): Spawned {
    const worker = spawnTs(workerScript, this.env(), 'chaos-worker ready');
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

export const countBy = (values: readonly string[]): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
};

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
    const api = spawnTs(apiScript, {
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
