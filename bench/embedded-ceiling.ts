/**
 * `npm run bench:ceiling`: the sustained rate of bare workflow runs each embedded server carries. Steps of N
 * schedules each firing every second (N runs/s due, all on the same instant, overlap SKIP as surecron's); at every
 * step each kind (bench/lib/embedded-kinds.ts) in turn gets a fresh server on free ports and a temp dir and a plain
 * worker of the one-activity workflow (bench/bare-workflows.ts). Per step: warm-up, a window, the schedules
 * deleted, a drain for the window's late runs.
 * Reports runs/s (activities started inside the window), p50/p99 lateness (activity start −
 * TemporalScheduledStartTime), fires missed, CPU of the server process, of this process (client and worker), and of
 * the whole machine, which tells whether something else shared the cores.
 *
 *   npm run bench:ceiling -- --kinds dev,server:1,server:4,server:8 --steps 20,40,60,80 --seconds 30 --rounds 1
 */
import { Worker } from '@temporalio/worker';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { writeWorkflowBundle } from '../src/boot/worker.js';
import type { BareActivities } from './bare-workflows.js';
import { mapLimit } from './lib/cadence.js';
import { kindLabel, parseKind, startKind, type EmbeddedKind } from './lib/embedded-kinds.js';
import { cpuMs } from './lib/proc.js';
import { percentile } from './lib/stats.js';
import { connect, deleteSchedule, runWorker } from './systems/temporal-common.js';

const root = new URL('..', import.meta.url).pathname;
const TASK_QUEUE = 'bench-ceiling';
/** Schedule `i` of the step of N schedules passes `N × STEP + i` to its workflow, so every run names its step. */
const STEP = 10_000;
/** One run: the schedule's number, its nominal time and the activity's start, epoch ms. */
type RunRecord = [i: number, nominal: number, start: number];

interface StepResult {
  kind: string;
  label: string;
  schedules: number;
  runsPerSec: number;
  expected: number;
  missed: number;
  p50Ms: number | null;
  p99Ms: number | null;
  serverCpuPct: number;
  /** Server CPU time per run started in the window: what a run costs, whatever else shares the machine. */
  serverCpuMsPerRun: number | null;
  benchCpuPct: number;
  /** All cores together, % of one core (200 = both of two); includes what others ran meanwhile. */
  machineCpuPct: number;
  load1: number;
  /** Share of the window in which some task waited for a CPU / for I/O (PSI "some"). */
  cpuStallPct: number;
  ioStallPct: number;
}

/** Busy and total jiffies of all cores so far (/proc/stat). */
function machineTicks(): { busy: number; total: number } {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}

/** Time some task stalled on the CPU and on I/O so far, µs (/proc/pressure, PSI): what others' load costs us. */
function pressure(): { cpu: number; io: number } {
  const some = (kind: string): number => {
    try {
      return Number(/^some .*total=(\d+)/m.exec(readFileSync(`/proc/pressure/${kind}`, 'utf8'))?.[1] ?? 0);
    } catch {
      return 0;
    }
  };
  return { cpu: some('cpu'), io: some('io') };
}

const cores = (): number => (readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm) ?? []).length || 1;

async function runStep(
  kind: EmbeddedKind,
  serverPid: number,
  client: Awaited<ReturnType<typeof connect>>['client'],
  records: RunRecord[],
  size: number,
  opts: { warmup: number; seconds: number; drain: number },
): Promise<StepResult> {
  const indexes = Array.from({ length: size }, (_, i) => size * STEP + i);
  const ids = indexes.map((i) => `ceiling-${i}`);
  await mapLimit(indexes, 16, async (i) => {
    const id = `ceiling-${i}`;
    await client.schedule.create({
      scheduleId: id,
      spec: { intervals: [{ every: '1s' }] },
      action: { type: 'startWorkflow', workflowType: 'benchBare', workflowId: id, taskQueue: TASK_QUEUE, args: [i] },
      policies: { overlap: 'SKIP', catchupWindow: '1h' },
    });
  });
  const t0 = Math.ceil((Date.now() + opts.warmup * 1000) / 1000) * 1000;
  const t1 = t0 + opts.seconds * 1000;
  await sleep(t0 - Date.now());
  const from = { server: cpuMs(serverPid) ?? 0, bench: process.cpuUsage(), machine: machineTicks(), psi: pressure() };
  await sleep(t1 - Date.now());
  const to = {
    server: cpuMs(serverPid) ?? 0,
    bench: process.cpuUsage(from.bench),
    machine: machineTicks(),
    psi: pressure(),
  };
  const load1 = loadavg()[0] ?? 0;
  await mapLimit(ids, 16, (id) => deleteSchedule(client, id));
  const inWindow = (): RunRecord[] => records.filter(([i, nominal]) => Math.floor(i / STEP) === size && nominal >= t0);
  const expected = size * opts.seconds;
  const drainStarted = Date.now();
  let last = { count: -1, at: Date.now() };
  while (Date.now() - drainStarted < opts.drain * 1000) {
    const count = inWindow().length;
    if (count >= expected) break;
    if (count !== last.count) last = { count, at: Date.now() };
    else if (Date.now() - last.at > 5_000) break;
    await sleep(250);
  }
  const runs = inWindow().filter(([, nominal]) => nominal < t1);
  const lateness = runs.map(([, nominal, start]) => start - nominal).sort((a, b) => a - b);
  const started = records.filter(([, , start]) => start >= t0 && start < t1).length;
  const ms = t1 - t0;
  const machine = to.machine.total - from.machine.total;
  const result: StepResult = {
    kind: kind.name,
    label: kindLabel(kind),
    schedules: size,
    runsPerSec: Math.round((started / (ms / 1000)) * 10) / 10,
    expected,
    missed: expected - new Set(runs.map(([i, nominal]) => `${i}@${nominal}`)).size,
    p50Ms: percentile(lateness, 50),
    p99Ms: percentile(lateness, 99),
    serverCpuPct: Math.round(((to.server - from.server) / ms) * 100),
    serverCpuMsPerRun: started ? Math.round((to.server - from.server) / started) : null,
    benchCpuPct: Math.round(((to.bench.user + to.bench.system) / 1000 / ms) * 100),
    machineCpuPct: Math.round(((to.machine.busy - from.machine.busy) / Math.max(1, machine)) * cores() * 100),
    load1: Math.round(load1 * 100) / 100,
    cpuStallPct: Math.round(((to.psi.cpu - from.psi.cpu) / 1000 / ms) * 100),
    ioStallPct: Math.round(((to.psi.io - from.psi.io) / 1000 / ms) * 100),
  };
  return result;
}

function row(r: StepResult): string {
  const cells = [
    r.label,
    r.schedules,
    r.runsPerSec,
    `${r.missed} / ${r.expected}`,
    r.p50Ms ?? '—',
    r.p99Ms ?? '—',
    r.serverCpuPct,
    r.serverCpuMsPerRun ?? '—',
    r.benchCpuPct,
    `${r.machineCpuPct} (${r.machineCpuPct - r.serverCpuPct - r.benchCpuPct})`,
    r.load1,
    `${r.cpuStallPct} / ${r.ioStallPct}`,
  ];
  return `| ${cells.join(' | ')} |`;
}

const header = [
  '| server | due runs/s | runs/s | missed / expected | p50 ms | p99 ms | server CPU % | server CPU ms/run | bench CPU % | machine CPU % (others) | load 1 min | CPU / IO stall % |',
  '| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |',
];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      kinds: { type: 'string', default: 'dev,server:1,server:4,server:8' },
      steps: { type: 'string', default: '20,40,60,80' },
      warmup: { type: 'string', default: '10' },
      seconds: { type: 'string', default: '30' },
      drain: { type: 'string', default: '20' },
      rounds: { type: 'string', default: '1' },
    },
  });
  const kinds = values.kinds.split(',').map(parseKind);
  const rounds = Number(values.rounds);
  const steps = values.steps.split(',').map(Number);
  const opts = { warmup: Number(values.warmup), seconds: Number(values.seconds), drain: Number(values.drain) };
  const log = (line: string): void =>
    void process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const workDir = mkdtempSync(join(tmpdir(), 'surecron-ceiling-'));
  // Ctrl-C stops the server of the step under way (its own process group would outlive us) and removes the temp dir.
  let stopCurrent: (() => Promise<void>) | undefined;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.once(signal, () => {
      void (stopCurrent?.() ?? Promise.resolve()).finally(() => {
        rmSync(workDir, { recursive: true, force: true });
        process.exit(130);
      });
    });
  const results: StepResult[] = [];
  try {
    const bundle = join(workDir, 'bare-bundle.js');
    await writeWorkflowBundle(bundle, join(root, 'bench', 'bare-workflows.ts'));
    const measure = async (kind: EmbeddedKind, size: number, dir: string): Promise<StepResult> => {
      const server = await startKind(kind, dir);
      stopCurrent = () => server.stop();
      try {
        const { client, native } = await connect(server.address);
        const records: RunRecord[] = [];
        const activities: BareActivities = {
          async benchActivity(i, nominalMs) {
            records.push([i, nominalMs, Date.now()]);
          },
        };
        const worker = await Worker.create({
          connection: native,
          namespace: 'default',
          taskQueue: TASK_QUEUE,
          activities,
          workflowBundle: { codePath: bundle },
          shutdownGraceTime: '2s',
        });
        const { stopWorker } = runWorker(worker, client, native);
        try {
          return await runStep(kind, server.pid, client, records, size, opts);
        } finally {
          await stopWorker();
        }
      } finally {
        await server.stop();
        stopCurrent = undefined;
      }
    };
    // Kinds take turns at each step, so what else runs on the machine meanwhile falls on all of them alike.
    for (let round = 1; round <= rounds; round += 1)
      for (const size of steps)
        for (const kind of kinds) {
          const result = await measure(
            kind,
            size,
            join(workDir, `${kind.name.replace(/[:+]/g, '-')}-${size}-${round}`),
          );
          results.push(result);
          log(row(result));
        }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const table = [...header, ...results.map(row)].join('\n');
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const file = join(resultsDir, `ceiling-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify({ opts, cores: cores(), results }, null, 2)}\n`);
  process.stdout.write(`\n${table}\n\nwrote ${file}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:ceiling: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
