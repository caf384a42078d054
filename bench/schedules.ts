/**
 * `npm run bench:schedules [-- --sizes 1,100,1000 --seconds 60 --drain 30 --systems surecron,temporal,bullmq,croner]`
 *
 * Measures surecron against bare Temporal Schedules, BullMQ job schedulers and in-process croner: N schedules
 * each firing every 10 s (spread over the 10 s), a trivial handler. Per system and N: lateness (handler start −
 * nominal time), runs/s, missed fires, duplicates, RSS and CPU. Each scenario runs alone, in a child process of
 * its own; the Temporal scenarios each get a fresh dev server (temporary SQLite file), BullMQ a private
 * redis-server. Writes bench/results/schedules-<timestamp>.json and the section of BENCHMARKS.md between
 * `<!-- schedules:start -->` and `<!-- schedules:end -->`.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connectClient, ensureSearchAttributes } from '../src/client.js';
import { cliVersion, resolveTemporalCli, TEMPORAL_CLI_VERSION, type TemporalExecutable } from '../src/temporal/cli.js';
import { startDevServer, type DevServer } from '../src/temporal/dev-server.js';
import { workflowsPath } from '../src/worker.js';
import { expectedFires, PERIOD_MS } from './lib/cadence.js';
import { ensureRedisServer, freePort, ProcessSampler, startRedis, type RedisServer } from './lib/proc.js';
import { systems, type ChildMessage, type ParentMessage, type RunnerConfig, type SystemName } from './lib/protocol.js';
import {
  labels,
  markdownSection,
  markdownTable,
  updateBenchmarksMd,
  type BenchReport,
  type Machine,
  type ScenarioResult,
} from './lib/report.js';
import { fireStats } from './lib/stats.js';

const root = new URL('..', import.meta.url).pathname;
const runnerPath = join(root, 'bench', 'runner.ts');
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const clock = (t = Date.now()): string => new Date(t).toISOString().slice(11, 19);
const log = (line: string): void => {
  process.stdout.write(`[${clock()}] ${line}\n`);
};

function options(): { sizes: number[]; seconds: number; drain: number; systems: SystemName[] } {
  const { values } = parseArgs({
    options: {
      sizes: { type: 'string', default: '1,100,1000' },
      seconds: { type: 'string', default: '60' },
      drain: { type: 'string', default: '30' },
      systems: { type: 'string', default: systems.join(',') },
    },
  });
  const sizes = values.sizes.split(',').map(Number);
  const seconds = Number(values.seconds);
  const drain = Number(values.drain);
  const chosen = values.systems.split(',') as SystemName[];
  if (sizes.some((n) => !Number.isInteger(n) || n < 1 || n > 9999)) throw new Error('--sizes: integers 1–9999');
  if (!Number.isInteger(seconds) || seconds < 10 || seconds % 10 !== 0) throw new Error('--seconds: a multiple of 10');
  if (!(drain >= 5)) throw new Error('--drain: at least 5 seconds');
  if (chosen.some((s) => !systems.includes(s))) throw new Error(`--systems: some of ${systems.join(',')}`);
  return { sizes, seconds, drain, systems: chosen };
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

function machine(executable: TemporalExecutable, redis: string): Machine {
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

interface Context {
  workDir: string;
  executable: TemporalExecutable;
  surecronBundle: string;
  bareBundle: string;
  redis?: RedisServer;
  seconds: number;
  drain: number;
}

async function runScenario(ctx: Context, system: SystemName, size: number): Promise<ScenarioResult> {
  const usesTemporal = system === 'surecron' || system === 'temporal';
  let server: DevServer | undefined;
  const dbFile = join(ctx.workDir, `${system}-${size}.db`);
  let runner: Runner | undefined;
  try {
    const config: RunnerConfig = { system, size };
    if (usesTemporal) {
      server = await startDevServer({
        executable: ctx.executable,
        dbFile,
        port: await freePort(),
        namespace: 'default',
        logFile: join(ctx.workDir, 'temporal.log'),
      });
      const client = await connectClient({ address: server.address, namespace: 'default' });
      await ensureSearchAttributes(client);
      await client.connection.close();
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
    const t0 = Math.ceil((Date.now() + PERIOD_MS) / PERIOD_MS) * PERIOD_MS;
    const t1 = t0 + ctx.seconds * 1000;
    log(
      `  ${labels[system]} N=${size}: ${size} schedules registered in ${(setupMs / 1000).toFixed(1)} s; window ${clock(t0)}–${clock(t1)}`,
    );
    runner.send({ type: 'window', t0, t1, drainMaxMs: ctx.drain * 1000 });
    const pids: Record<string, number> = { bench: runner.pid };
    if (server?.pid) pids['temporal server'] = server.pid;
    if (system === 'bullmq' && ctx.redis) pids['redis-server'] = ctx.redis.pid;
    const sampler = new ProcessSampler(pids);
    await sleep(t0 - Date.now());
    sampler.start();
    await sleep(t1 - Date.now());
    const processes = sampler.stop();
    const result = await runner.next('result', (ctx.drain + 60) * 1000);
    const { cleanupMs } = await runner.next('stopped', 10 * 60_000);
    await runner.exit();
    const stats = fireStats(result.records, expectedFires(size, t0, t1), result.startedInWindow, t1 - t0, size);
    return {
      system,
      size,
      status: 'ok',
      setupMs,
      drainMs: result.drainMs,
      cleanupMs,
      window: { t0: new Date(t0).toISOString(), t1: new Date(t1).toISOString() },
      stats,
      processes,
    };
  } catch (error) {
    await runner?.kill();
    return { system, size, status: 'failed', note: (error as Error).message.split('\n')[0]?.slice(0, 160) };
  } finally {
    await server?.stop();
    rmSync(dbFile, { force: true });
    rmSync(`${dbFile}-wal`, { force: true });
    rmSync(`${dbFile}-shm`, { force: true });
    if (system === 'bullmq') await ctx.redis?.flush().catch(() => undefined);
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

async function main(): Promise<void> {
  const opts = options();
  const startedAt = new Date();
  const command = `npm run bench:schedules -- --sizes ${opts.sizes.join(',')} --seconds ${opts.seconds} --drain ${opts.drain}${
    opts.systems.length === systems.length ? '' : ` --systems ${opts.systems.join(',')}`
  }`;
  log(`bench:schedules: sizes ${opts.sizes.join(',')}, ${opts.seconds} s window, systems ${opts.systems.join(',')}`);
  const workDir = mkdtempSync(join(tmpdir(), 'surecron-bench-'));
  const notes: string[] = [];
  let redis: RedisServer | undefined;
  const results: ScenarioResult[] = [];
  let machineInfo: Machine | undefined;
  try {
    const executable = await resolveTemporalCli();
    if (executable.kind !== 'path') notes.push('Temporal CLI from the SDK download: dev server RSS not measured');
    if (opts.systems.includes('bullmq')) {
      const skip = ensureRedisServer(log);
      if (skip) {
        notes.push(skip);
        log(skip);
      } else {
        redis = await startRedis();
      }
    }
    machineInfo = machine(executable, redis?.version ?? 'not available');
    log('bundling workflows');
    const surecronBundle = join(workDir, 'surecron-bundle.js');
    const bareBundle = join(workDir, 'bare-bundle.js');
    writeFileSync(surecronBundle, (await bundleWorkflowCode({ workflowsPath, logger: silent })).code);
    const bareWorkflows = join(root, 'bench', 'bare-workflows.ts');
    writeFileSync(bareBundle, (await bundleWorkflowCode({ workflowsPath: bareWorkflows, logger: silent })).code);
    const ctx: Context = { workDir, executable, surecronBundle, bareBundle, redis, ...opts };
    for (const size of opts.sizes) {
      for (const system of opts.systems) {
        log(`${labels[system]}, N=${size}: starting`);
        const result = await runScenario(ctx, system, size);
        results.push(result);
        log(`  ${labels[system]} N=${size}: ${summary(result)}`);
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
    drainMaxS: opts.drain,
    machine: machineInfo,
    notes,
    results,
  };
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const jsonPath = join(resultsDir, `schedules-${report.startedAt.replace(/:/g, '-')}.json`);
  writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  await updateBenchmarksMd(join(root, 'BENCHMARKS.md'), markdownSection(report), skeleton);
  process.stdout.write(`\n${markdownTable(report)}\n\n`);
  log(`done in ${(durationS / 60).toFixed(1)} min; wrote ${jsonPath} and BENCHMARKS.md`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:schedules: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
