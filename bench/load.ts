/**
 * `npm run bench:load [-- --tasks 1000 --minutes 10 --register 10000 --register-budget 12 --seconds 30]`
 *
 * A production-shaped load test on this machine. Starts a fresh Temporal dev server (free port, temporary SQLite
 * file), then a child process running a surecron worker and the API (as `npm start` runs them; the `heartbeat`
 * handler is replaced by one that records when it started), and:
 *
 * 1. applies `--tasks` tasks with a mix of crons (seconds-first, Unix and hourly; see `MIX`) through the audited
 *    apply path (`applyTasks` over `TaskService.writer`), timing it;
 * 2. lets them fire for `--minutes`; one minute in, autocannon runs `GET /v1/tasks/{id}` with 50 connections for
 *    `--seconds`; after a drain it reports lateness (handler start − nominal time) p50/p99, fires executed / due,
 *    duplicates, failed runs (visibility), API latency and the RSS of every process;
 * 3. applies `--register` more tasks (a yearly cron, so they add no fires) the same way, in batches, stopping at
 *    `--register-budget` minutes and extrapolating the rate; then measures `GET /v1/tasks?pageSize=100`
 *    (autocannon, 10 connections, `--seconds`) and the RSS again.
 *
 * Writes bench/results/load-<timestamp>.json. RELIABILITY.md is written by hand from it.
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createHandlers } from '../examples/index.js';
import type { HandlerContext } from '../src/activities/handler.js';
import { ensureSearchAttributes } from '../src/client.js';
import { cliVersion, resolveTemporalCli } from '../src/temporal/cli.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { TaskService } from '../src/tasks/service.js';
import { taskSpecSchema, type TaskSpec } from '../src/tasks/spec.js';
import { TaskStore } from '../src/tasks/store.js';
import { workflowsPath } from '../src/boot/worker.js';
import {
  apiChildConfig,
  log,
  machine,
  root,
  serveApiChild,
  silent,
  startApiChild,
  stopApiChild,
  type ApiChildConfig,
} from './lib/api-child.js';
import { freePort, ProcessSampler, rssBytes } from './lib/proc.js';
import type { ProcessUse } from './lib/report.js';
import { registrationSpecs, timedApply } from './lib/register.js';
import { percentile } from './lib/stats.js';

const TOKEN = 'bench-load-token-0123456789';
const TASK_QUEUE = 'bench-load';
const mb = (bytes: number | undefined): number => Math.round(((bytes ?? 0) / 2 ** 20) * 10) / 10;

/**
 * The cron mix, per 100 tasks: what a typical deployment declares (a few sub-minute probes, most jobs every few
 * minutes to hourly, all of the minute-level ones at second 0, as cron users write them).
 */
interface MixEntry {
  share: number;
  periodS: number;
  cron: (slot: number) => string;
  label: string;
}
const HOURLY: MixEntry = {
  share: 30,
  periodS: 3600,
  cron: (s) => `${s % 60} * * * *`,
  label: 'hourly (5 fields, second 0)',
};
const MIX: MixEntry[] = [
  { share: 1, periodS: 10, cron: (s) => `${s % 10}/10 * * * * ?`, label: 'every 10 s (6 fields)' },
  { share: 4, periodS: 60, cron: (s) => `${s % 60} * * * * ?`, label: 'every minute (6 fields, spread seconds)' },
  { share: 25, periodS: 300, cron: (s) => `${s % 5}/5 * * * *`, label: 'every 5 min (5 fields, second 0)' },
  { share: 40, periodS: 900, cron: (s) => `${s % 15}/15 * * * *`, label: 'every 15 min (5 fields, second 0)' },
  HOURLY,
];

/** Seconds into its period at which slot `s` of a mix entry fires (UTC, epoch-aligned: periods divide a day). */
function offsetS(periodS: number, slot: number): number {
  if (periodS === 10) return slot % 10;
  if (periodS === 60) return slot % 60;
  return (slot % (periodS / 60)) * 60;
}

interface LoadTask {
  spec: TaskSpec;
  periodS: number;
  offsetS: number;
}

function loadTasks(count: number): LoadTask[] {
  const tasks: LoadTask[] = [];
  for (let i = 0; i < count; i++) {
    const bucket = i % 100;
    let acc = 0;
    const mix = MIX.find((m) => (acc += m.share) > bucket) ?? HOURLY;
    const slot = Math.floor(i / 100) * 7 + bucket;
    tasks.push({
      spec: taskSpecSchema.parse({
        id: `load-${String(i).padStart(5, '0')}`,
        description: `bench:load ${mix.label}`,
        schedule: { cron: mix.cron(slot) },
        handler: { type: 'function', name: 'heartbeat' },
        catchupWindow: '10m',
      }),
      periodS: mix.periodS,
      offsetS: offsetS(mix.periodS, slot),
    });
  }
  return tasks;
}

/** Fires of `task` with nominal time in [fromMs, toMs). */
function dueFires(task: LoadTask, fromMs: number, toMs: number): number {
  const period = task.periodS * 1000;
  const offset = task.offsetS * 1000;
  const first = Math.ceil((fromMs - offset) / period);
  const last = Math.ceil((toMs - offset) / period) - 1;
  return Math.max(0, last - first + 1);
}

interface Fire {
  taskId: string;
  nominalMs: number;
  startedMs: number;
  attempt: number;
}

// --- the worker + API process ----------------------------------------------------------------------------------

/** Child mode: the worker and the API, with a `heartbeat` handler that records each run's start. */
function serve(config: ApiChildConfig): Promise<void> {
  const fires: Fire[] = [];
  const handlers = {
    ...createHandlers(),
    heartbeat: (_input: unknown, context: HandlerContext): Promise<unknown> => {
      fires.push({
        taskId: context.taskId,
        nominalMs: Date.parse(context.nominalTime),
        startedMs: Date.now(),
        attempt: context.attempt,
      });
      return Promise.resolve({ ok: true });
    },
  };
  return serveApiChild(config, {
    handlers,
    onRequest: (type) => (type === 'fires' ? { type: 'fires', fires } : undefined),
  });
}

// --- the driver ------------------------------------------------------------------------------------------------

interface Latency {
  requests: number;
  reqPerSec: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function cannon(name: string, options: autocannon.Options): Promise<Latency> {
  log(`${name}: ${options.connections} connections, ${options.duration} s`);
  const result = await autocannon(options);
  const latency: Latency = {
    requests: result.requests.total,
    reqPerSec: Math.round(result.requests.total / (result.duration || 1)),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
  log(`  ${JSON.stringify(latency)}`);
  return latency;
}

function request<T>(child: ChildProcess, type: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (message: { type: string } & T): void => {
      if (message.type !== type) return;
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type });
  });
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string', default: '1000' },
      minutes: { type: 'string', default: '10' },
      register: { type: 'string', default: '10000' },
      'register-budget': { type: 'string', default: '12' },
      seconds: { type: 'string', default: '30' },
      drain: { type: 'string', default: '60' },
    },
  });
  const taskCount = Number(values.tasks);
  const minutes = Number(values.minutes);
  const registerCount = Number(values.register);
  const budgetMin = Number(values['register-budget']);
  const seconds = Number(values.seconds);
  const drainS = Number(values.drain);
  if (!(taskCount >= 1) || !(minutes >= 1) || !(registerCount >= 0) || !(seconds >= 5) || !(drainS >= 5)) {
    throw new Error('--tasks ≥ 1, --minutes ≥ 1, --register ≥ 0, --seconds ≥ 5, --drain ≥ 5');
  }
  const command = `npm run bench:load -- ${process.argv.slice(2).join(' ')}`.trim();
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const workDir = mkdtempSync(join(tmpdir(), 'surecron-bench-load-'));
  const executable = await resolveTemporalCli();
  const info = machine(executable.kind === 'path' ? cliVersion(executable.path) : undefined, executable.source);
  log('starting the Temporal dev server');
  const server = await startDevServer({
    executable,
    dbFile: join(workDir, 'temporal.db'),
    port: await freePort(),
    namespace: 'default',
    logFile: join(workDir, 'temporal.log'),
  });
  let child: ChildProcess | undefined;
  let client: Client | undefined;
  try {
    client = new Client({ connection: await Connection.connect({ address: server.address }), namespace: 'default' });
    await ensureSearchAttributes(client);
    const bundle = join(workDir, 'bundle.js');
    writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath, logger: silent })).code);
    const port = await freePort();
    child = await startApiChild('load.ts', {
      address: server.address,
      bundle,
      port,
      taskQueue: TASK_QUEUE,
      token: TOKEN,
    });
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${TOKEN}` };
    const pids: Record<string, number> = { 'worker+API': child.pid as number, bench: process.pid };
    if (server.pid) pids['temporal server'] = server.pid;
    const rss = (): Record<string, number> =>
      Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, mb(rssBytes(pid))]));
    const service = new TaskService(client, new TaskStore(client, TASK_QUEUE));

    // 1. apply the load tasks
    const tasks = loadTasks(taskCount);
    const dueRate = tasks.reduce((sum, t) => sum + 1 / t.periodS, 0);
    log(`applying ${taskCount} load tasks (due ${dueRate.toFixed(2)} runs/s on average)`);
    const writer = service.writer('bench-load');
    const loadApply = await timedApply(
      writer,
      tasks.map((t) => t.spec),
      Infinity,
      'load tasks',
      log,
    );
    const rssIdle = rss();

    // 2. the window: start on the next minute, so the second-0 bursts are inside it
    const windowStart = Math.ceil((Date.now() + 5000) / 60_000) * 60_000;
    const windowEnd = windowStart + minutes * 60_000;
    log(`window ${new Date(windowStart).toISOString()} – ${new Date(windowEnd).toISOString()}`);
    await sleep(windowStart - Date.now());
    const windowSampler = new ProcessSampler(pids);
    windowSampler.start();
    await sleep(60_000);
    const apiFrom = Date.now();
    let getIndex = 0;
    const apiGet = await cannon('GET /v1/tasks/{id} during the window', {
      url: base,
      connections: 50,
      duration: seconds,
      timeout: 60,
      headers,
      requests: [
        {
          method: 'GET',
          setupRequest: (req) => ({ ...req, path: `/v1/tasks/${tasks[getIndex++ % tasks.length]?.spec.id}` }),
        },
      ],
    });
    const apiTo = Date.now();
    await sleep(Math.max(0, windowEnd - Date.now()));
    const windowProcesses: Record<string, ProcessUse> = windowSampler.stop();
    log(`window over; draining ${drainS} s`);
    await sleep(drainS * 1000);
    const { fires } = await request<{ fires: Fire[] }>(child, 'fires');
    const inWindow = fires.filter((f) => f.nominalMs >= windowStart && f.nominalMs < windowEnd);
    const firsts = new Map<string, Fire>();
    let duplicates = 0;
    for (const fire of inWindow) {
      const key = `${fire.taskId}@${fire.nominalMs}`;
      if (firsts.has(key)) duplicates += 1;
      else firsts.set(key, fire);
    }
    const expected = tasks.reduce((sum, t) => sum + dueFires(t, windowStart, windowEnd), 0);
    const lateness = (list: Fire[]) => {
      const sorted = list.map((f) => f.startedMs - f.nominalMs).sort((a, b) => a - b);
      return {
        runs: sorted.length,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        max: sorted[sorted.length - 1] ?? null,
      };
    };
    const firstRuns = [...firsts.values()];
    const window = {
      expected,
      executed: firsts.size,
      successRate: Math.round((firsts.size / Math.max(1, expected)) * 10000) / 100,
      duplicates,
      retries: inWindow.filter((f) => f.attempt > 1).length,
      lateMoreThan10s: firstRuns.filter((f) => f.startedMs - f.nominalMs > 10_000).length,
      latenessMs: lateness(firstRuns),
      latenessDuringApiLoadMs: lateness(firstRuns.filter((f) => f.nominalMs >= apiFrom && f.nominalMs < apiTo)),
      latenessSecond0BurstsMs: lateness(firstRuns.filter((f) => f.nominalMs % 60_000 === 0)),
      failedRuns: (
        await client.workflow.count(
          `WorkflowType = 'runTask' AND ExecutionStatus != 'Completed' AND ExecutionStatus != 'Running'`,
        )
      ).count,
      processes: windowProcesses,
    };
    log(`window: ${JSON.stringify({ ...window, processes: undefined })}`);

    // 3. register many more tasks
    let register: Record<string, unknown> | undefined;
    if (registerCount > 0) {
      const specs = registrationSpecs(registerCount, 'heartbeat', 'bench:load registration');
      log(`applying ${registerCount} more tasks (budget ${budgetMin} min)`);
      const regSampler = new ProcessSampler(pids);
      regSampler.start();
      const applied = await timedApply(writer, specs, budgetMin * 60_000, 'registration', log);
      const regProcesses = regSampler.stop();
      const listSampler = new ProcessSampler(pids);
      listSampler.start();
      const list = await cannon('GET /v1/tasks?pageSize=100', {
        url: `${base}/v1/tasks?pageSize=100`,
        connections: 10,
        duration: seconds,
        timeout: 60,
        headers,
      });
      const listProcesses = listSampler.stop();
      register = {
        ...applied,
        projectedSecondsForAll: Math.round(registerCount / applied.perSec),
        totalTasks: taskCount + applied.applied,
        processesDuringApply: regProcesses,
        listPage100: list,
        processesDuringList: listProcesses,
        rssAfter: rss(),
      };
      log(`registration: ${JSON.stringify({ ...register, processesDuringApply: undefined })}`);
    }

    const report = {
      startedAt,
      command,
      machine: info,
      mix: MIX.map(({ share, label }) => ({ share, label })),
      tasks: taskCount,
      dueRunsPerSec: Math.round(dueRate * 100) / 100,
      minutes,
      loadApply,
      rssIdleMb: rssIdle,
      window,
      apiGetTask50Connections: apiGet,
      register,
    };
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const jsonPath = join(resultsDir, `load-${startedAt.replace(/:/g, '-')}.json`);
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    log(`wrote ${jsonPath}`);
  } finally {
    await stopApiChild(child);
    await client?.connection.close();
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const childConfig = apiChildConfig();
if (childConfig) {
  serve(childConfig).catch((error: unknown) => {
    process.stderr.write(`bench:load server: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench:load: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
