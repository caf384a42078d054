/**
 * `npm run bench:hops [-- --size 20 --seconds 40 --sample 60 --syscall-seconds 20 --systems surecron,temporal,temporal-ahead
 *   --worker-options '{"maxCachedWorkflows":0}' --dynamic-config '{"worker.perNamespaceWorkerCount":2}']`
 *
 * Where the lateness of one fire goes, hop by hop, read from the server's own event times: each system runs
 * `--size` schedules every 10 s (the bench:schedules cadence) on a fresh embedded dev server for `--seconds`, then
 * the histories of up to `--sample` runs, and the scheduler's own history for their fires, are read back:
 *
 * - **timer**: the scheduler's `TimerFired` − the nominal time (the history service's timer queue);
 * - **scheduler**: the run's `WorkflowExecutionStarted` − `TimerFired` (the scheduler's workflow task, its start of
 *   the run, their persistence);
 * - **dispatch**: the run's first `WorkflowTaskStarted` − its `WorkflowTaskScheduled` (matching to our worker);
 * - **worker**: the handler's start − that `WorkflowTaskStarted` (the worker's activation and, for surecron, the
 *   local activity; for bare Temporal, the workflow task's completion, the activity task and its dispatch).
 *
 * What a fire costs, per fire, over the same window (bench/lib/fire-profile.ts): the run's history events by kind and
 * the scheduler's events from one fire to the next; the server's persistence writes and reads by operation and its
 * visibility requests (its Prometheus counters); the server's and the worker process's CPU, the worker's split by
 * thread (main JS, workflow thread, Rust core, V8 helpers) and its main thread's JavaScript by package (a V8 CPU
 * profile). Then, for `--syscall-seconds` (default 20; 0 = off), the server's fsync, fdatasync and write calls under
 * strace, in a window of their own because strace slows the server.
 *
 * Fire-ahead (`temporal-ahead`) adds its own timer: its hops are measured from the scheduled (early) time, and
 * `ahead timer` is the run's `TimerFired` − nominal. Results: bench/results/hops-<timestamp>.json and a Markdown
 * table on stdout. Every server it starts is stopped by pid.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { writeWorkflowBundle } from '../src/boot/worker.js';
import { connectClient, ensureSearchAttributes } from '../src/client.js';
import { resolveTemporalCli } from '../src/temporal/cli.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { profileTable, profileWindow, syscallWindow, type FireProfile } from './lib/fire-profile.js';
import { hopTable, measureHops, type HopReport, type HopSystem } from './lib/hops.js';
import { freePort } from './lib/proc.js';
import type { Recorder, RunnerConfig, RunningSystem, RunRecord } from './lib/protocol.js';
import { startSurecron, startSurecronActivity } from './systems/surecron.js';
import { FIRE_AHEAD_MS, startTemporal, startTemporalAhead } from './systems/temporal.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const starters: Record<HopSystem, (config: RunnerConfig, record: Recorder) => Promise<RunningSystem>> = {
  surecron: startSurecron,
  'surecron-activity': startSurecronActivity,
  temporal: startTemporal,
  'temporal-ahead': startTemporalAhead,
};

interface Options {
  size: number;
  seconds: number;
  sample: number;
  systems: HopSystem[];
  workerOptions: Record<string, unknown>;
  dynamicConfig: Record<string, string | number | boolean>;
  syscallSeconds: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: '20' },
      seconds: { type: 'string', default: '40' },
      sample: { type: 'string', default: '60' },
      systems: { type: 'string', default: Object.keys(starters).join(',') },
      'worker-options': { type: 'string', default: '{}' },
      'dynamic-config': { type: 'string', default: '{}' },
      'syscall-seconds': { type: 'string', default: '20' },
    },
  });
  const systems = values.systems.split(',') as HopSystem[];
  if (systems.some((s) => !(s in starters))) throw new Error(`--systems: some of ${Object.keys(starters).join(',')}`);
  const [size, seconds, sample] = [Number(values.size), Number(values.seconds), Number(values.sample)];
  const syscallSeconds = Number(values['syscall-seconds']);
  if (!Number.isInteger(syscallSeconds) || syscallSeconds < 0) throw new Error('--syscall-seconds: 0 (off) or more');
  if (!Number.isInteger(size) || size < 1 || size > 1000) throw new Error('--size: an integer 1–1000');
  if (!Number.isInteger(seconds) || seconds < 20) throw new Error('--seconds: at least 20');
  if (!Number.isInteger(sample) || sample < 1) throw new Error('--sample: a positive integer');
  const workerOptions = jsonObject(values['worker-options'], '--worker-options', '{"maxCachedWorkflows":0}');
  const dynamicConfig = jsonObject(
    values['dynamic-config'],
    '--dynamic-config',
    '{"worker.perNamespaceWorkerOptions":{"MaxConcurrentWorkflowTaskPollers":8}}',
  ) as Options['dynamicConfig'];
  return { size, seconds, sample, systems, workerOptions, dynamicConfig, syscallSeconds };
}

function jsonObject(text: string, flag: string, example: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    value = undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${flag}: a JSON object, e.g. ${example}`);
  return value as Record<string, unknown>;
}

async function main(): Promise<void> {
  const opts = options();
  const executable = await resolveTemporalCli();
  const workDir = mkdtempSync(join(tmpdir(), 'surecron-hops-'));
  const reports: (HopReport & { profile: FireProfile })[] = [];
  try {
    const surecronBundle = join(workDir, 'surecron-bundle.js');
    const bareBundle = join(workDir, 'bare-bundle.js');
    await writeWorkflowBundle(surecronBundle);
    await writeWorkflowBundle(bareBundle, join(root, 'bench', 'bare-workflows.ts'));
    for (const system of opts.systems) {
      const dbFile = join(workDir, `${system}.db`);
      const metricsPort = await freePort();
      const server = await startDevServer({
        executable,
        dbFile,
        port: await freePort(),
        metricsPort,
        namespace: 'default',
        dynamicConfig: opts.dynamicConfig,
      });
      try {
        const client = await connectClient({ address: server.address, namespace: 'default' });
        await ensureSearchAttributes(client);
        process.stdout.write(`bench:hops: ${system}, ${opts.size} schedules, ${opts.seconds} s\n`);
        const records: RunRecord[] = [];
        const config: RunnerConfig = {
          system,
          size: opts.size,
          address: server.address,
          surecronBundle,
          bareBundle,
          workerOptions: opts.workerOptions,
        };
        const running = await starters[system](config, (i, nominal, start) => records.push([i, nominal, start]));
        // The first 10 s slot carries the registration: measure the fires after it.
        const from = Date.now() + 10_000;
        await sleep(10_000);
        const window = { serverPid: server.pid, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`, records };
        const profile = await profileWindow(window, (opts.seconds - 10) * 1000);
        if (opts.syscallSeconds)
          profile.syscalls = await syscallWindow(window, opts.syscallSeconds * 1000, join(workDir, `${system}.strace`));
        const sample = records.filter(([, nominal]) => nominal >= from).slice(0, opts.sample);
        const leadMs = system === 'temporal-ahead' ? FIRE_AHEAD_MS : 0;
        try {
          reports.push({ ...(await measureHops(client, system, sample, leadMs)), profile });
        } finally {
          await running.stop();
          await client.connection.close();
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
  const resultsDir = join(root, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date()
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/:/g, '-');
  writeFileSync(join(resultsDir, `hops-${stamp}.json`), `${JSON.stringify({ opts, reports }, null, 2)}\n`);
  process.stdout.write(`\n${hopTable(reports)}\n\n${profileTable(reports)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench:hops: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
