/**
 * `npm run bench:schedules [-- --sizes 1,100,1000 --seconds 60 --drain 30 --systems surecron,temporal,bullmq,croner
 *   --server embedded|cluster|embedded,cluster --nodes 3 --shards 16 --register 10000 --register-via store
 *   --register-budget 15 --no-markdown]`
 *
 * Measures surecron against bare Temporal Schedules, BullMQ job schedulers and in-process croner: N schedules
 * each firing every 10 s (spread over the 10 s), a trivial handler. Per system and N: lateness (handler start −
 * nominal time), runs/s, missed fires, duplicates, RSS and CPU. Each scenario runs alone, in a child process of
 * its own; BullMQ uses a private redis-server.
 *
 * `--server` (default `embedded`) says which Temporal server(s) the two Temporal systems (surecron, bare Temporal)
 * run on, each scenario on a fresh one: `embedded` = the CLI's dev server (temporary SQLite file), `cluster` = a
 * real cluster from `startTemporalCluster` (PostgreSQL, `--nodes` temporal-server nodes with `--shards` history
 * shards, HAProxy in front; temporary data dir). With both, each Temporal scenario runs once per server and the
 * table shows them side by side, ratios against bare Temporal on the same server; BullMQ and croner run once. On
 * the cluster the CPU and memory of every process (postgres with its backends, each node, haproxy) and of the
 * bench runner are sampled, so the busiest process is named.
 *
 * `--register N` (default 0: off): after the scenarios, on a fresh server of each `--server` kind, a runner with a
 * surecron worker registers N surecron tasks (yearly cron, so none fires) and the time and rate are reported.
 * `--register-via store` (default) writes them with `TaskStore.create`, as the surecron scenario creates its
 * tasks (not audited); `audited` through `TaskService.writer` (one `taskChange` workflow each, as `npm run
 * apply` and bench:load); `store,audited` measures both. A registration stops after `--register-budget` minutes
 * (the rate still holds). `--sizes ''` with `--register` runs the registration alone.
 *
 * Writes bench/results/schedules-<timestamp>.json and (unless `--no-markdown`) the section of BENCHMARKS.md
 * between `<!-- schedules:start -->` and `<!-- schedules:end -->`.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { connectClient, ensureSearchAttributes } from '../src/client.js';
import { findPostgresBin } from '../src/cluster/postgres.js';
import { killLeftovers } from '../src/cluster/supervisor.js';
import { startTemporalCluster } from '../src/cluster/temporal-cluster.js';
import { cliVersion, resolveTemporalCli, TEMPORAL_CLI_VERSION, type TemporalExecutable } from '../src/temporal/cli.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { resolveClusterBinaries } from '../src/temporal/server-tools.js';
import { TEMPORAL_SERVER_VERSION } from '../src/temporal/versions.js';
import { writeWorkflowBundle } from '../src/boot/worker.js';
import { Cadence } from './lib/cadence.js';
import { ensureRedisServer, freePort, ProcessSampler, startRedis, type RedisServer } from './lib/proc.js';
import {
  registerPaths,
  systems,
  type ChildMessage,
  type ParentMessage,
  type RegisterVia,
  type RunnerConfig,
  type SystemName,
} from './lib/protocol.js';
import {
  labels,
  markdownSection,
  markdownTable,
  processTable,
  registrationTable,
  serverKinds,
  updateBenchmarksMd,
  type BenchReport,
  type Machine,
  type RegistrationResult,
  type ScenarioResult,
  type ServerKind,
} from './lib/report.js';
import { fireStats } from './lib/stats.js';

const root = new URL('..', import.meta.url).pathname;
const runnerPath = join(root, 'bench', 'runner.ts');
const clock = (t = Date.now()): string => new Date(t).toISOString().slice(11, 19);
const log = (line: string): void => {
  process.stdout.write(`[${clock()}] ${line}\n`);
};

interface Options {
  sizes: number[];
  seconds: number;
  /** Each schedule's period, seconds (bench/lib/cadence.ts). */
  periodSeconds: number;
  drain: number;
  systems: SystemName[];
  servers: ServerKind[];
  nodes: number;
  shards: number;
  register: number;
  registerVia: RegisterVia[];
  registerBudgetMin: number;
  /** False with `--no-markdown`: the run goes to bench/results and stdout only, BENCHMARKS.md is left alone. */
  markdown: boolean;
}

const list = (value: string): string[] => [...new Set(value.split(',').filter(Boolean))];

function options(): Options {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1,100,1000' },
      seconds: { type: 'string', default: '60' },
      period: { type: 'string', default: '10' },
      drain: { type: 'string', default: '30' },
      systems: { type: 'string', default: systems.join(',') },
      server: { type: 'string', default: 'embedded' },
      nodes: { type: 'string', default: '3' },
      shards: { type: 'string', default: '16' },
      register: { type: 'string', default: '0' },
      'register-via': { type: 'string', default: 'store' },
      'register-budget': { type: 'string', default: '15' },
      'no-markdown': { type: 'boolean', default: false },
    },
  });
  const sizes = list(values.sizes).map(Number);
  const seconds = Number(values.seconds);
  const cadence = new Cadence(Number(values.period));
  const drain = Number(values.drain);
  const chosen = values.systems.split(',') as SystemName[];
  const servers = list(values.server) as ServerKind[];
  const nodes = Number(values.nodes);
  const shards = Number(values.shards);
  const register = Number(values.register);
  const registerVia = list(values['register-via']) as RegisterVia[];
  const registerBudgetMin = Number(values['register-budget']);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 9999)) throw new Error('--sizes: integers 1–9999');
  if (!Number.isInteger(seconds) || seconds < 10 || seconds % 10 !== 0) throw new Error('--seconds: a multiple of 10');
  if (!(drain >= 5)) throw new Error('--drain: at least 5 seconds');
  if (chosen.some((s) => !systems.includes(s))) throw new Error(`--systems: some of ${systems.join(',')}`);
  if (!servers.length || servers.some((s) => !serverKinds.includes(s)))
    throw new Error(`--server: embedded, cluster or embedded,cluster`);
  if (!Number.isInteger(nodes) || nodes < 1 || nodes > 9) throw new Error('--nodes: an integer 1–9');
  if (!Number.isInteger(shards) || shards < 1) throw new Error('--shards: a positive integer');
  if (!Number.isInteger(register) || register < 0 || register > 99_999) throw new Error('--register: 0–99999');
  if (!registerVia.length || registerVia.some((v) => !registerPaths.includes(v)))
    throw new Error(`--register-via: store, audited or store,audited`);
  if (!(registerBudgetMin > 0)) throw new Error('--register-budget: minutes, more than 0');
  if (!sizes.length && !register) throw new Error('--sizes is empty and there is nothing to --register');
  return {
    sizes,
    seconds,
    periodSeconds: cadence.periodSeconds,
    drain,
    systems: chosen,
    servers,
    nodes,
    shards,
    register,
    registerVia,
    registerBudgetMin,
    markdown: !values['no-markdown'],
  };
}

/** The options as a command that repeats the run: the defaults left out, the cluster's shape always spelled out. */
function commandLine(opts: Options): string {
  const parts = [`npm run bench:schedules -- --sizes ${opts.sizes.join(',') || "''"}`];
  parts.push(`--seconds ${opts.seconds} --drain ${opts.drain}`);
  if (opts.periodSeconds !== 10) parts.push(`--period ${opts.periodSeconds}`);
  if (opts.systems.length !== systems.length) parts.push(`--systems ${opts.systems.join(',')}`);
  if (opts.servers.join(',') !== 'embedded') parts.push(`--server ${opts.servers.join(',')}`);
  if (opts.servers.includes('cluster')) parts.push(`--nodes ${opts.nodes} --shards ${opts.shards}`);
  if (opts.register) {
    parts.push(`--register ${opts.register}`);
    if (opts.registerVia.join(',') !== 'store') parts.push(`--register-via ${opts.registerVia.join(',')}`);
    if (opts.registerBudgetMin !== 15) parts.push(`--register-budget ${opts.registerBudgetMin}`);
  }
  return parts.join(' ');
}

function packageVersion(name: string): string {
  try {
    const pkg = JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return 'not installed';
  }
}

function machine(executable: TemporalExecutable, redis: string, server: string): Machine {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const os = /PRETTY_NAME="([^"]+)"/.exec(spawnSync('cat', ['/etc/os-release'], { encoding: 'utf8' }).stdout)?.[1];
  const binary = executable.kind === 'path' ? cliVersion(executable.path) : undefined;
  return {
    cpu: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cores: cpus().length,
    ramGb: Math.round(totalmem() / 2 ** 30),
    os: `${os ?? 'Linux'}, kernel ${spawnSync('uname', ['-r'], { encoding: 'utf8' }).stdout.trim()}`,
    node: process.version,
    temporalCli: `${TEMPORAL_CLI_VERSION} (${binary ?? executable.source})`,
    temporalServer: server,
    temporalSdk: packageVersion('@temporalio/worker'),
    bullmq: packageVersion('bullmq'),
    ioredis: packageVersion('ioredis'),
    redis,
    croner: packageVersion('croner'),
  };
}

/** The child process running one scenario, with its messages as awaitable events. */
class Runner {
  private readonly child: ChildProcess;
  private readonly inbox: ChildMessage[] = [];
  private wake: (() => void) | undefined;
  private exited = false;

  constructor(config: RunnerConfig) {
    this.child = spawn(process.execPath, ['--import', 'tsx', runnerPath], {
      cwd: root,
      env: { ...process.env, BENCH_RUNNER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: ChildMessage) => {
      this.inbox.push(message);
      this.wake?.();
    });
    this.child.on('exit', () => {
      this.exited = true;
      this.wake?.();
    });
  }

  get pid(): number {
    return this.child.pid as number;
  }

  async next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const message = this.inbox.shift();
      if (message?.type === 'error') throw new Error(`runner failed: ${message.message}`);
      if (message?.type === type) return message as Extract<ChildMessage, { type: T }>;
      if (message) continue;
      if (this.exited) throw new Error(`runner exited (code ${this.child.exitCode}) before "${type}"`);
      if (Date.now() > deadline) throw new Error(`runner sent no "${type}" within ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        setTimeout(resolve, 1000);
      });
    }
  }

  send(message: ParentMessage): void {
    this.child.send(message);
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await gone;
  }

  async exit(): Promise<void> {
    if (!this.exited) await new Promise((resolve) => this.child.once('exit', resolve));
  }
}

interface Context extends Options {
  workDir: string;
  executable: TemporalExecutable;
  surecronBundle: string;
  bareBundle: string;
  redis?: RedisServer;
}

/** A fresh Temporal server for one scenario, with the processes to sample. */
interface BenchServer {
  address: string;
  /** Name → pid of the server's processes. */
  pids: Record<string, number>;
  /** Names of `pids` sampled with their descendants (PostgreSQL's backends). */
  trees: string[];
  /** Processes restarted since the start, with how often. */
  restarts(): Record<string, number>;
  stop(): Promise<void>;
}

/** Data dirs of clusters running now: killed and removed synchronously if the bench exits early. */
const liveClusters = new Set<string>();
/** Temporary folders removed if the bench exits early. */
const tempDirs = new Set<string>();
process.once('exit', () => {
  for (const dataDir of liveClusters) {
    killLeftovers(join(dataDir, 'cluster.json'));
    rmSync(dataDir, { recursive: true, force: true });
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    process.stderr.write(`bench:schedules: ${signal}: stopping\n`);
    process.exit(130);
  });

const clusterLogger = pino({ level: 'warn' });

async function startServer(ctx: Context, kind: ServerKind, name: string): Promise<BenchServer> {
  if (kind === 'embedded') {
    const dbFile = join(ctx.workDir, `${name}.db`);
    const server = await startDevServer({
      executable: ctx.executable,
      dbFile,
      port: await freePort(),
      namespace: 'default',
      logFile: join(ctx.workDir, 'temporal.log'),
    });
    const client = await connectClient({ address: server.address, namespace: 'default' });
    await ensureSearchAttributes(client);
    await client.connection.close();
    return {
      address: server.address,
      pids: server.pid ? { 'temporal server': server.pid } : {},
      trees: [],
      restarts: () => ({}),
      stop: async () => {
        await server.stop();
        rmSync(dbFile, { force: true });
        rmSync(`${dbFile}-wal`, { force: true });
        rmSync(`${dbFile}-shm`, { force: true });
      },
    };
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'surecron-bench-cluster-'));
  liveClusters.add(dataDir);
  const removeDir = (): void => {
    rmSync(dataDir, { recursive: true, force: true });
    liveClusters.delete(dataDir);
  };
  try {
    const cluster = await startTemporalCluster({
      dataDir,
      clusterFile: join(dataDir, 'cluster.json'),
      nodes: ctx.nodes,
      shards: ctx.shards,
      port: await freePort(),
      namespace: 'default',
      retentionDays: 1,
      logger: clusterLogger,
    });
    const entries = cluster.supervisor.entries();
    const pids = Object.fromEntries(
      entries.filter((e) => e.pid !== null).map((e) => [e.name, e.pid as number] as const),
    );
    const restartsAtStart = new Map(entries.map((e) => [e.name, e.restarts]));
    return {
      address: cluster.address,
      pids,
      trees: entries.filter((e) => e.role === 'postgres').map((e) => e.name),
      restarts: () =>
        Object.fromEntries(
          cluster.supervisor
            .entries()
            .map((e) => [e.name, e.restarts - (restartsAtStart.get(e.name) ?? 0)] as const)
            .filter(([, n]) => n > 0),
        ),
      stop: async () => {
        try {
          await cluster.stop();
        } finally {
          removeDir();
        }
      },
    };
  } catch (error) {
    killLeftovers(join(dataDir, 'cluster.json'));
    removeDir();
    throw error;
  }
}

const firstLine = (error: unknown): string => (error as Error).message.split('\n')[0]?.slice(0, 160) ?? '';

async function runScenario(
  ctx: Context,
  system: SystemName,
  size: number,
  kind: ServerKind | undefined,
): Promise<ScenarioResult> {
  let server: BenchServer | undefined;
  let runner: Runner | undefined;
  const on = kind ? { server: kind } : {};
  try {
    const config: RunnerConfig = { system, size, periodSeconds: ctx.periodSeconds };
    const cadence = new Cadence(ctx.periodSeconds);
    if (kind) {
      server = await startServer(ctx, kind, `${system}-${size}`);
      Object.assign(config, {
        address: server.address,
        surecronBundle: ctx.surecronBundle,
        bareBundle: ctx.bareBundle,
      });
    }
    if (system === 'bullmq') {
      if (!ctx.redis) return { system, size, status: 'skipped', note: 'no redis-server' };
      config.redisPort = ctx.redis.port;
    }
    runner = new Runner(config);
    const { setupMs } = await runner.next('ready', 15 * 60_000);
    // Warm-up: every schedule is registered; give each one full period to fire before the window opens.
    const t0 = Math.ceil((Date.now() + cadence.periodMs) / cadence.periodMs) * cadence.periodMs;
    const t1 = t0 + ctx.seconds * 1000;
    log(
      `  ${labels[system]} N=${size}: ${size} schedules registered in ${(setupMs / 1000).toFixed(1)} s; window ${clock(t0)}–${clock(t1)}`,
    );
    runner.send({ type: 'window', t0, t1, drainMaxMs: ctx.drain * 1000 });
    const pids: Record<string, number> = { bench: runner.pid, ...server?.pids };
    if (system === 'bullmq' && ctx.redis) pids['redis-server'] = ctx.redis.pid;
    const sampler = new ProcessSampler(pids, { trees: server?.trees ?? [] });
    await sleep(t0 - Date.now());
    sampler.start();
    await sleep(t1 - Date.now());
    const processes = sampler.stop();
    const result = await runner.next('result', (ctx.drain + 60) * 1000);
    const { cleanupMs } = await runner.next('stopped', 10 * 60_000);
    await runner.exit();
    const expected = cadence.expectedFires(size, t0, t1);
    const stats = fireStats(result.records, expected, result.startedInWindow, t1 - t0, size, ctx.periodSeconds);
    const restarts = server?.restarts() ?? {};
    return {
      system,
      size,
      ...on,
      status: 'ok',
      setupMs,
      drainMs: result.drainMs,
      cleanupMs,
      window: { t0: new Date(t0).toISOString(), t1: new Date(t1).toISOString() },
      stats,
      processes,
      ...(Object.keys(restarts).length ? { restarts } : {}),
    };
  } catch (error) {
    await runner?.kill();
    return { system, size, ...on, status: 'failed', note: firstLine(error) };
  } finally {
    await server?.stop();
    if (system === 'bullmq') await ctx.redis?.flush().catch(() => undefined);
  }
}

/** `--register`: a runner with a surecron worker registers `ctx.register` tasks on a fresh server. */
async function runRegistration(ctx: Context, kind: ServerKind, via: RegisterVia): Promise<RegistrationResult> {
  let server: BenchServer | undefined;
  let runner: Runner | undefined;
  const count = ctx.register;
  const budgetMs = ctx.registerBudgetMin * 60_000;
  try {
    server = await startServer(ctx, kind, `register-${via}`);
    runner = new Runner({
      system: 'surecron',
      size: count,
      address: server.address,
      surecronBundle: ctx.surecronBundle,
      register: { via, budgetMs },
    });
    await runner.next('ready', 5 * 60_000);
    const sampler = new ProcessSampler({ bench: runner.pid, ...server.pids }, { trees: server.trees });
    sampler.start();
    runner.send({ type: 'register' });
    const timing = await runner.next('registered', budgetMs + 15 * 60_000);
    const processes = sampler.stop();
    await runner.next('stopped', 5 * 60_000);
    await runner.exit();
    const restarts = server.restarts();
    return {
      server: kind,
      via,
      count,
      status: 'ok',
      applied: timing.applied,
      seconds: timing.seconds,
      perSec: timing.perSec,
      complete: timing.complete,
      processes,
      ...(Object.keys(restarts).length ? { restarts } : {}),
    };
  } catch (error) {
    await runner?.kill();
    return { server: kind, via, count, status: 'failed', note: firstLine(error) };
  } finally {
    await server?.stop();
  }
}

function summary(result: ScenarioResult): string {
  const s = result.stats;
  if (result.status !== 'ok' || !s) return `${result.status}${result.note ? `: ${result.note}` : ''}`;
  const rss = Object.entries(result.processes ?? {})
    .map(([name, p]) => `${name} ${Math.round(p.rssPeakMb)} MB/${Math.round(p.cpuPct)}% CPU`)
    .join(', ');
  const l = s.latenessMs;
  return (
    `${s.executed}/${s.expected} ran, ${s.missed} missed, ${s.duplicates} dup, ${s.runsPerSec} runs/s; ` +
    `lateness p50 ${l.p50} p95 ${l.p95} p99 ${l.p99} max ${l.max} ms; ${rss}`
  );
}

const skeleton = `# Benchmarks\n\n<!-- schedules:start -->\n<!-- schedules:end -->\n`;

const usesTemporal = (system: SystemName): boolean => system.startsWith('surecron') || system.startsWith('temporal');

/** How the table names each server of the run, and the server versions for the machine block. */
function describeServers(opts: Options): { servers: NonNullable<BenchReport['servers']>; version: string } {
  const servers: NonNullable<BenchReport['servers']> = [];
  const where: string[] = [];
  for (const kind of opts.servers) {
    if (kind === 'embedded') {
      servers.push({ kind, label: 'embedded dev server' });
      where.push(`embedded in the CLI ${TEMPORAL_CLI_VERSION}`);
      continue;
    }
    const pgBin = findPostgresBin();
    const pg = /PostgreSQL\)\s+(\S+)/.exec(
      spawnSync(join(pgBin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout,
    )?.[1];
    const haproxy = /HAProxy version (\S+)/.exec(
      spawnSync('/usr/sbin/haproxy', ['-v'], { encoding: 'utf8' }).stdout,
    )?.[1];
    servers.push({
      kind,
      label:
        `cluster (${opts.nodes} ${opts.nodes === 1 ? 'node' : 'nodes'}, ${opts.shards} shards, ` +
        `PostgreSQL ${pg?.split('.')[0] ?? '?'})`,
    });
    where.push(
      `cluster: temporal-server ${TEMPORAL_SERVER_VERSION}, PostgreSQL ${pg ?? '?'}, HAProxy ${haproxy ?? '?'}`,
    );
  }
  return { servers, version: `${TEMPORAL_SERVER_VERSION} (${where.join('; ')})` };
}

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date();
  const command = commandLine(opts);
  log(
    `bench:schedules: sizes ${opts.sizes.join(',') || 'none'}, ${opts.seconds} s window, systems ` +
      `${opts.systems.join(',')}, server ${opts.servers.join(',')}` +
      (opts.servers.includes('cluster') ? ` (${opts.nodes} node(s), ${opts.shards} shards)` : '') +
      (opts.register ? `, register ${opts.register} via ${opts.registerVia.join(',')}` : ''),
  );
  const workDir = mkdtempSync(join(tmpdir(), 'surecron-bench-'));
  tempDirs.add(workDir);
  const notes: string[] = [];
  let redis: RedisServer | undefined;
  const results: ScenarioResult[] = [];
  const registrations: RegistrationResult[] = [];
  let machineInfo: Machine | undefined;
  const { servers, version } = describeServers(opts);
  try {
    const executable = await resolveTemporalCli();
    if (executable.kind !== 'path') notes.push('Temporal CLI from the SDK download: dev server RSS not measured');
    if (opts.servers.includes('cluster')) {
      // Fails early, naming what is missing, instead of once per scenario.
      const binaries = await resolveClusterBinaries({ onProgress: log });
      const reported = spawnSync(binaries.server, ['--version'], { encoding: 'utf8' }).stdout.trim();
      if (!reported.includes(TEMPORAL_SERVER_VERSION))
        notes.push(`${binaries.server} reports "${reported}", not ${TEMPORAL_SERVER_VERSION}`);
    }
    if (opts.systems.includes('bullmq') && opts.sizes.length) {
      const skip = ensureRedisServer(log);
      if (skip) {
        notes.push(skip);
        log(skip);
      } else {
        redis = await startRedis();
      }
    }
    machineInfo = machine(executable, redis?.version ?? 'not available', version);
    log('bundling workflows');
    const surecronBundle = join(workDir, 'surecron-bundle.js');
    const bareBundle = join(workDir, 'bare-bundle.js');
    await writeWorkflowBundle(surecronBundle);
    const bareWorkflows = join(root, 'bench', 'bare-workflows.ts');
    await writeWorkflowBundle(bareBundle, bareWorkflows);
    const ctx: Context = { ...opts, workDir, executable, surecronBundle, bareBundle, redis };
    const serverLabel = (kind: ServerKind | undefined): string =>
      kind && opts.servers.length > 1 ? ` on ${servers.find((s) => s.kind === kind)?.label}` : '';
    for (const size of opts.sizes) {
      // The Temporal systems once per server; BullMQ and croner once, with the first server's round.
      for (const kind of opts.servers) {
        for (const system of opts.systems) {
          if (!usesTemporal(system) && kind !== opts.servers[0]) continue;
          const on = usesTemporal(system) ? kind : undefined;
          const name = `${labels[system]}${serverLabel(on)}, N=${size}`;
          log(`${name}: starting`);
          const result = await runScenario(ctx, system, size, on);
          results.push(result);
          log(`  ${name}: ${summary(result)}`);
        }
      }
    }
    for (const kind of opts.register ? opts.servers : []) {
      for (const via of opts.registerVia) {
        const name = `register ${opts.register} surecron tasks via ${via}${serverLabel(kind)}`;
        log(`${name}: starting`);
        const registration = await runRegistration(ctx, kind, via);
        registrations.push(registration);
        log(
          `  ${name}: ` +
            (registration.status === 'ok'
              ? `${registration.applied} in ${registration.seconds} s (${registration.perSec}/s)` +
                (registration.complete ? '' : ', budget spent')
              : `${registration.status}: ${registration.note}`),
        );
      }
    }
  } finally {
    await redis?.stop();
    rmSync(workDir, { recursive: true, force: true });
  }

  const durationS = Math.round((Date.now() - startedAt.getTime()) / 1000);
  const report: BenchReport = {
    startedAt: startedAt.toISOString().replace(/\.\d+Z$/, 'Z'),
    durationS,
    command,
    sizes: opts.sizes,
    seconds: opts.seconds,
    periodSeconds: opts.periodSeconds,
    drainMaxS: opts.drain,
    machine: machineInfo,
    servers,
    notes,
    results,
    ...(opts.register ? { registrations } : {}),
  };
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonPath = join(resultsDir, `schedules-${report.startedAt.replace(/:/g, '-')}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  if (opts.markdown) await updateBenchmarksMd(join(root, 'BENCHMARKS.md'), markdownSection(report), skeleton);
  if (opts.sizes.length) process.stdout.write(`\n${markdownTable(report)}\n\n`);
  if (registrations.length) process.stdout.write(`${registrationTable(report)}\n\n`);
  if (opts.servers.includes('cluster')) process.stdout.write(`${processTable(report)}\n\n`);
  log(`done in ${(durationS / 60).toFixed(1)} min; wrote ${jsonPath}${opts.markdown ? ' and BENCHMARKS.md' : ''}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:schedules: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
