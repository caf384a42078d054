import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';

import { freePort } from '../../src/util/ports.js';
import { statFields } from '../../src/util/proc.js';

export { freePort };

/** A `<key>: <n> kB` line of a /proc file of `pid`, in bytes, or undefined once the process is gone. */
function procKb(pid: number, file: string, key: string): number | undefined {
  try {
    const match = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(readFileSync(`/proc/${pid}/${file}`, 'utf8'));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS of a process in bytes, or undefined once it is gone. */
export const rssBytes = (pid: number): number | undefined => procKb(pid, 'status', 'VmRSS');

const clockTicks = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** CPU time (user + system) a process has used so far, in ms. */
export function cpuMs(pid: number): number | undefined {
  const fields = statFields(pid);
  return fields ? ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks : undefined;
}

/** CPU time (user + system) one thread of this process has used so far, in ms, or undefined once it is gone. */
export function threadCpuMs(tid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / clockTicks;
  } catch {
    return undefined;
  }
}

/** Proportional set size of a process in bytes (shared pages split among their users), or undefined. */
export const pssBytes = (pid: number): number | undefined => procKb(pid, 'smaps_rollup', 'Pss');

/** `pid` and every live descendant of it. */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ppid = Number(statFields(Number(entry))?.[1]);
    if (!ppid) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), Number(entry)]);
  }
  const tree: number[] = [];
  const queue = [pid];
  while (queue.length) {
    const next = queue.shift() as number;
    tree.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return tree;
}

/**
 * CPU time of `pid` and its descendants so far, in ms: user + system of every live process of the tree, plus what
 * the root's reaped children used (cutime + cstime), so a child that exits in between is still counted.
 */
export function treeCpuMs(pid: number): number | undefined {
  const root = statFields(pid);
  if (!root) return undefined;
  let ticks = Number(root[13]) + Number(root[14]);
  for (const member of processTree(pid)) {
    const fields = statFields(member);
    if (fields) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks * 1000) / clockTicks;
}

/** Sum of the PSS of `pid` and its descendants, in bytes. */
export function treePssBytes(pid: number): number | undefined {
  if (!statFields(pid)) return undefined;
  return processTree(pid).reduce((sum, member) => sum + (pssBytes(member) ?? 0), 0);
}

export interface SamplerOptions {
  /**
   * Names (keys of `pids`) measured as a process tree: the process and all its descendants (PostgreSQL's
   * postmaster and its backends). Their memory is the sum of PSS (shared memory counted once), not VmRSS.
   */
  trees?: readonly string[];
}

/** Samples RSS of some processes once a second; mean and peak per process, plus CPU used between start and stop. */
export class ProcessSampler {
  private readonly samples = new Map<string, number[]>();
  private readonly cpuStart = new Map<string, number>();
  private readonly trees: ReadonlySet<string>;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(
    private readonly pids: Readonly<Record<string, number>>,
    options: SamplerOptions = {},
  ) {
    this.trees = new Set(options.trees ?? []);
  }

  private cpu(name: string, pid: number): number | undefined {
    return this.trees.has(name) ? treeCpuMs(pid) : cpuMs(pid);
  }

  start(): void {
    this.startedAt = Date.now();
    for (const [name, pid] of Object.entries(this.pids)) this.cpuStart.set(name, this.cpu(name, pid) ?? 0);
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000);
  }

  private sample(): void {
    for (const [name, pid] of Object.entries(this.pids)) {
      const rss = this.trees.has(name) ? treePssBytes(pid) : rssBytes(pid);
      if (rss !== undefined) this.samples.set(name, [...(this.samples.get(name) ?? []), rss]);
    }
  }

  /** Per process: mean and peak RSS (MB) and CPU use as % of one core over the sampled time. */
  stop(): Record<string, { rssMeanMb: number; rssPeakMb: number; cpuPct: number }> {
    this.sample();
    clearInterval(this.timer);
    const elapsed = Math.max(1, Date.now() - this.startedAt);
    const mb = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
    return Object.fromEntries(
      Object.entries(this.pids).map(([name, pid]) => {
        const values = this.samples.get(name) ?? [0];
        const cpu = (this.cpu(name, pid) ?? 0) - (this.cpuStart.get(name) ?? 0);
        return [
          name,
          {
            rssMeanMb: mb(values.reduce((a, b) => a + b, 0) / values.length),
            rssPeakMb: mb(Math.max(...values)),
            cpuPct: Math.round((cpu / elapsed) * 1000) / 10,
          },
        ];
      }),
    );
  }
}

export const REDIS_SERVER = '/usr/bin/redis-server';

function hasRedis(): boolean {
  return spawnSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).status === 0;
}

/**
 * Makes sure redis-server exists: installs it with apt-get when missing and running as root.
 * @returns a note explaining why BullMQ is skipped, or undefined when redis-server is available.
 */
export function ensureRedisServer(log: (line: string) => void): string | undefined {
  if (hasRedis()) return undefined;
  if (process.getuid?.() !== 0) return `${REDIS_SERVER} is missing and we are not root: BullMQ skipped`;
  log(`${REDIS_SERVER} is missing: installing redis-server with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = spawnSync('apt-get', ['update'], { stdio: 'ignore', env });
  const install = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server'], {
    stdio: 'ignore',
    env,
  });
  if (update.status !== 0 || install.status !== 0 || !hasRedis()) {
    return `installing redis-server with apt-get failed (status ${install.status}): BullMQ skipped`;
  }
  return undefined;
}

export interface RedisServer {
  port: number;
  pid: number;
  version: string;
  flush(): Promise<void>;
  stop(): Promise<void>;
}

/** A private redis-server on a free port without persistence. */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    { stdio: 'ignore' },
  );
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      if (redis.status !== 'ready') await redis.connect();
      await redis.ping();
      break;
    } catch (error) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`redis-server did not start on port ${port}: ${(error as Error).message}`, { cause: error });
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const info = await redis.info('server');
  const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  return {
    port,
    pid: child.pid as number,
    version,
    flush: async () => {
      await redis.flushall();
    },
    stop: async () => {
      process.removeListener('exit', killOnExit);
      redis.disconnect();
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}
