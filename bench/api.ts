/**
 * `npm run bench:api [-- --seconds 20 --connections 50 --seed 100]`
 *
 * HTTP API throughput and latency over real HTTP. Starts a fresh Temporal dev server (free port, temporary SQLite
 * file, search attributes registered), then a child process running a surecron worker and the API listening on a
 * free port (so the load generator does not share the API's event loop), seeds 100 tasks, and with autocannon
 * (50 connections, 20 s each) measures:
 *
 * - `GET /v1/tasks/{id}` over the seeded tasks (a schedule describe plus a visibility query for recent runs);
 * - `POST /v1/tasks` with a unique id per request (a `taskChange` workflow: activity, schedule create, audit);
 * - as a bare-Temporal baseline, as many `client.schedule.getHandle(id).describe()` calls as the GET run made,
 *   50 at a time, in this process.
 *
 * Writes bench/results/api-<timestamp>.json and the section of BENCHMARKS.md between `<!-- api:start -->` and
 * `<!-- api:end -->` (nothing else in the file is touched).
 */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode } from '@temporalio/worker';
import autocannon from 'autocannon';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import proto from '@temporalio/proto';
import { format } from 'prettier';
import { ensureSearchAttributes } from '../src/client.js';
import { searchAttributeKeys } from '../src/contract/search-attributes.js';
import { cliVersion, resolveTemporalCli } from '../src/temporal/cli.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { workflowsPath } from '../src/boot/worker.js';
import {
  apiChildConfig,
  log,
  machine,
  packageVersion,
  root,
  serveApiChild,
  silent,
  startApiChild,
  stopApiChild,
  type Machine,
} from './lib/api-child.js';
import { freePort, ProcessSampler } from './lib/proc.js';
import type { ProcessUse } from './lib/report.js';
import { percentile } from './lib/stats.js';

const TOKEN = 'bench-api-token-0123456789';
const TASK_QUEUE = 'bench-api';
const taskSpec = (id: string) => ({
  id,
  description: 'bench:api task',
  schedule: { cron: '0 0 1 1 *' },
  handler: { type: 'function', name: 'heartbeat' },
});

// --- the driver ----------------------------------------------------------------------------------------------

interface Scenario {
  name: string;
  requests: number;
  reqPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** RSS of the processes involved, sampled each second during the run. */
  processes: Record<string, ProcessUse>;
}

function fromAutocannon(name: string, result: autocannon.Result, processes: Record<string, ProcessUse>): Scenario {
  const statusCodes: Record<string, number> = {};
  for (const [code, count] of Object.entries(result.statusCodeStats ?? {})) statusCodes[code] = count?.count ?? 0;
  return {
    name,
    requests: result.requests.total,
    reqPerSec: Math.round(result.requests.total / (result.duration || 1)),
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: Math.round(result.latency.mean * 10) / 10,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    processes,
  };
}

async function load(
  name: string,
  options: autocannon.Options,
  pids: Record<string, number>,
): Promise<{ scenario: Scenario; result: autocannon.Result }> {
  log(`${name}: ${options.connections} connections, ${options.duration} s`);
  const sampler = new ProcessSampler(pids);
  sampler.start();
  const result = await autocannon(options);
  const scenario = fromAutocannon(name, result, sampler.stop());
  log(
    `  ${scenario.requests} requests, ${scenario.reqPerSec} req/s, p50 ${scenario.latencyMs.p50} ms, p99 ${scenario.latencyMs.p99} ms, non-2xx ${scenario.non2xx}, errors ${scenario.errors}`,
  );
  return { scenario, result };
}

/** `count` describe() calls, `concurrency` at a time, timed one by one. */
async function bareDescribes(
  client: Client,
  ids: string[],
  count: number,
  concurrency: number,
  pids: Record<string, number>,
): Promise<Scenario> {
  log(`bare Temporal describe(): ${count} calls, concurrency ${concurrency}`);
  const sampler = new ProcessSampler(pids);
  sampler.start();
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const id = ids[next++ % ids.length] as string;
        const t = performance.now();
        try {
          await client.schedule.getHandle(id).describe();
        } catch {
          errors += 1;
        }
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const processes = sampler.stop();
  latencies.sort((a, b) => a - b);
  const ms = (v: number | null) => Math.round((v ?? 0) * 100) / 100;
  const scenario: Scenario = {
    name: 'bare Temporal: schedule describe()',
    requests: count,
    reqPerSec: Math.round(count / seconds),
    latencyMs: {
      p50: ms(percentile(latencies, 50)),
      p90: ms(percentile(latencies, 90)),
      p99: ms(percentile(latencies, 99)),
      max: ms(latencies[latencies.length - 1] ?? null),
      mean: ms(latencies.reduce((a, b) => a + b, 0) / latencies.length),
    },
    non2xx: 0,
    errors,
    timeouts: 0,
    statusCodes: {},
    processes,
  };
  log(
    `  ${count} calls in ${seconds.toFixed(1)} s, ${scenario.reqPerSec}/s, p50 ${scenario.latencyMs.p50} ms, p99 ${scenario.latencyMs.p99} ms, errors ${errors}`,
  );
  return scenario;
}

type BenchMachine = Machine & { autocannon: string };

function benchMachine(binary: string | undefined, source: string): BenchMachine {
  return { ...machine(binary, source), autocannon: packageVersion('autocannon') };
}

const START = '<!-- api:start -->';
const END = '<!-- api:end -->';

/** Replaces only the text between the api markers (adding them at the end of the file when missing). */
async function updateBenchmarksMd(section: string): Promise<void> {
  const path = join(root, 'BENCHMARKS.md');
  const formatted = (await format(section, { parser: 'markdown', printWidth: 120, singleQuote: true })).trim();
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  const s = current.indexOf(START);
  const e = current.indexOf(END);
  const base = s >= 0 && e > s ? current : `${current.trimEnd()}\n\n${START}\n${END}\n`;
  const start = base.indexOf(START) + START.length;
  const end = base.indexOf(END);
  writeFileSync(path, `${base.slice(0, start)}\n\n${formatted}\n\n${base.slice(end)}`);
}

const mb = (p: ProcessUse | undefined): string => (p ? `${Math.round(p.rssPeakMb)}` : '—');

function markdown(report: {
  startedAt: string;
  command: string;
  seconds: number;
  connections: number;
  seeded: number;
  machine: BenchMachine;
  scenarios: Scenario[];
  loadAverage: number[];
  postBreakdown: Breakdown;
  apply?: ApplyRun;
}): string {
  const m = report.machine;
  const rows = report.scenarios.map((s) =>
    [
      s.name,
      s.requests,
      s.reqPerSec,
      s.latencyMs.p50,
      s.latencyMs.p99,
      s.latencyMs.max,
      s.non2xx,
      s.errors + s.timeouts,
      mb(s.processes.api),
      mb(s.processes['temporal server']),
      mb(s.processes.bench),
    ].join(' | '),
  );
  return [
    '## HTTP API: throughput and latency',
    '',
    `\`npm run bench:api\` (not part of \`npm test\`): a fresh Temporal dev server, one process running a surecron worker ` +
      `and the API on a free port (real HTTP), ${report.seeded} seeded tasks; autocannon with ${report.connections} ` +
      `connections for ${report.seconds} s per endpoint. The bare-Temporal row makes as many ` +
      '`client.schedule.getHandle(id).describe()` calls as the GET run made, 50 at a time, in the bench process: ' +
      'the floor under `GET /v1/tasks/{id}` (which also lists recent runs from visibility).',
    '',
    `Run of ${report.startedAt}:`,
    '',
    `- CPU: ${m.cpu}, ${m.cores} cores; RAM ${m.ramGb} GB; ${m.os}`,
    `- Node ${m.node}; Temporal ${m.temporal}; TypeScript SDK ${m.temporalSdk}; autocannon ${m.autocannon}`,
    '',
    'Reproduce:',
    '',
    '```sh',
    report.command,
    '```',
    '',
    '| scenario | requests | req/s | p50 ms | p99 ms | max ms | non-2xx | errors | API RSS MB | server RSS MB | bench RSS MB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| ${r} |`),
    '',
    `Load average at the end of the run: ${report.loadAverage.join(', ')}.`,
    '',
    `Where a POST's audited change spends its time (mean over ${report.postBreakdown.sampled} \`taskChange\` ` +
      'executions of the POST run, from their histories): ' +
      Object.entries(report.postBreakdown.phasesMs)
        .map(([phase, ms]) => `${phase} ${ms} ms`)
        .join(', ') +
      '.',
    ...(report.apply
      ? [
          '',
          `\`apply\` of ${report.apply.tasks} new tasks over HTTP (\`POST /v1/apply\`, ${report.apply.perRequest} ` +
            `tasks per request, one request at a time): ${report.apply.seconds} s (${report.apply.perSec} tasks/s), ` +
            `${report.apply.auditExecutions} audit executions listing ${report.apply.auditedTasks} tasks; API RSS ` +
            `peak ${mb(report.apply.processes.api)} MB, server ${mb(report.apply.processes['temporal server'])} MB.`,
        ]
      : []),
    '',
    'RSS is the peak `VmRSS` sampled each second during the scenario: _API_ = the worker + API process, _server_ = ' +
      'the Temporal dev server, _bench_ = autocannon (and, for the bare row, the in-process client). POST creates a ' +
      'task per request through the audited `taskChange` workflow; concurrent creates share one execution (a batch ' +
      'audit entry, one local activity per task), so its rate is bounded by the schedule writes and their read-back, ' +
      'not by the audit or HTTP.',
  ].join('\n');
}

interface Breakdown {
  sampled: number;
  phasesMs: Record<string, number>;
}

/**
 * Where the audited change of a POST spends its time, from the histories of up to 40 `taskChange` executions: the
 * phases between the events the server recorded, averaged. Event names follow whichever path the workflow took
 * (an activity task or a local activity).
 */
async function postBreakdown(client: Client, taskQueue: string): Promise<Breakdown> {
  const sums: Record<string, number> = {};
  let sampled = 0;
  const query = `WorkflowType = 'taskChange' AND TaskQueue = '${taskQueue}' AND ExecutionStatus = 'Completed'`;
  for await (const execution of client.workflow.list({ query, pageSize: 40 })) {
    if (sampled >= 40) break;
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const events = history.events ?? [];
    const time = (event: (typeof events)[number]): number => {
      const t = event.eventTime;
      return Number(t?.seconds ?? 0) * 1000 + Math.round((t?.nanos ?? 0) / 1e6);
    };
    const first = events[0];
    if (!first) continue;
    let previous = time(first);
    let previousName = 'start';
    for (const event of events.slice(1)) {
      const type = (proto.temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'unknown')
        .replace(/^EVENT_TYPE_/, '')
        .toLowerCase();
      const phase = `${previousName}→${type}`;
      sums[phase] = (sums[phase] ?? 0) + (time(event) - previous);
      previous = time(event);
      previousName = type;
    }
    const total = 'start→close';
    sums[total] = (sums[total] ?? 0) + (previous - time(first));
    sampled += 1;
  }
  const phasesMs = Object.fromEntries(
    Object.entries(sums).map(([phase, sum]) => [phase, Math.round((sum / Math.max(1, sampled)) * 10) / 10]),
  );
  log(`  POST breakdown over ${sampled} changes: ${JSON.stringify(phasesMs)}`);
  return { sampled, phasesMs };
}

interface ApplyRun {
  tasks: number;
  perRequest: number;
  seconds: number;
  perSec: number;
  auditExecutions: number;
  auditedTasks: number;
  processes: Record<string, ProcessUse>;
}

/** Entries of the audit trail of `apply` for `apply-…` tasks, through the API. */
async function countAudited(base: string, headers: Record<string, string>): Promise<number> {
  let audited = 0;
  let pageToken: string | undefined;
  do {
    const url = `${base}/v1/audit?pageSize=1000${pageToken ? `&pageToken=${pageToken}` : ''}`;
    const page = (await (await fetch(url, { headers })).json()) as {
      items: { taskId: string; action: string }[];
      nextPageToken?: string;
    };
    audited += page.items.filter((item) => item.action === 'apply' && item.taskId.startsWith('apply-')).length;
    pageToken = page.nextPageToken;
  } while (pageToken);
  return audited;
}

/** `POST /v1/apply` of `count` new tasks, 1000 per request (the API's limit), one request after another; timed. */
async function timedApiApply(
  client: Client,
  base: string,
  headers: Record<string, string>,
  count: number,
  pids: Record<string, number>,
): Promise<ApplyRun> {
  const perRequest = 1000;
  log(`apply: ${count} tasks, ${perRequest} per POST /v1/apply`);
  const ids = Array.from({ length: count }, (_, i) => `apply-${String(i).padStart(5, '0')}`);
  const sampler = new ProcessSampler(pids);
  sampler.start();
  const started = performance.now();
  for (let i = 0; i < ids.length; i += perRequest) {
    const tasks = ids.slice(i, i + perRequest).map(taskSpec);
    const response = await fetch(`${base}/v1/apply`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ tasks }),
      signal: AbortSignal.timeout(1_800_000),
    });
    const body = (await response.json()) as { created?: string[] };
    if (response.status !== 200 || body.created?.length !== tasks.length)
      throw new Error(`apply ${i}: ${response.status} ${JSON.stringify(body).slice(0, 500)}`);
    const elapsed = (performance.now() - started) / 1000;
    log(`  ${i + tasks.length}/${count} in ${elapsed.toFixed(1)} s`);
  }
  const seconds = Math.round((performance.now() - started) / 100) / 10;
  const processes = sampler.stop();
  // Every task has its audit entry: count them through the API's own trail. Visibility trails the writes by a moment: count until every task is there, or 30 s have passed.
  let auditedTasks: number;
  const deadline = Date.now() + 30_000;
  for (;;) {
    auditedTasks = await countAudited(base, headers);
    if (auditedTasks >= count || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const run = {
    tasks: count,
    perRequest,
    seconds,
    perSec: Math.round((count / seconds) * 10) / 10,
    auditExecutions: (
      await client.workflow.count(`WorkflowType = 'taskChange' AND ${searchAttributeKeys.action.name} = 'apply'`)
    ).count,
    auditedTasks,
    processes,
  };
  log(`  applied ${count} in ${seconds} s (${run.perSec}/s); ${auditedTasks} audited`);
  return run;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '20' },
      connections: { type: 'string', default: '50' },
      seed: { type: 'string', default: '100' },
      apply: { type: 'string', default: '0' },
    },
  });
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const seeded = Number(values.seed);
  const applyCount = Number(values.apply);
  const defaults = seconds === 20 && connections === 50 && seeded === 100;
  const flags = [
    ...(defaults ? [] : [`--seconds ${seconds} --connections ${connections} --seed ${seeded}`]),
    ...(applyCount ? [`--apply ${applyCount}`] : []),
  ];
  const command = `npm run bench:api${flags.length ? ` -- ${flags.join(' ')}` : ''}`;
  const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const workDir = mkdtempSync(join(tmpdir(), 'surecron-bench-api-'));
  const executable = await resolveTemporalCli();
  const info = benchMachine(executable.kind === 'path' ? cliVersion(executable.path) : undefined, executable.source);
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
    log('bundling workflows');
    const bundle = join(workDir, 'bundle.js');
    writeFileSync(bundle, (await bundleWorkflowCode({ workflowsPath, logger: silent })).code);
    const port = await freePort();
    child = await startApiChild('api.ts', {
      address: server.address,
      bundle,
      port,
      taskQueue: TASK_QUEUE,
      token: TOKEN,
    });
    const base = `http://127.0.0.1:${port}`;
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    log(`API on ${base}; seeding ${seeded} tasks`);
    const ids = Array.from({ length: seeded }, (_, i) => `seed-${String(i).padStart(3, '0')}`);
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (id) => {
          const response = await fetch(`${base}/v1/tasks`, {
            method: 'POST',
            headers,
            body: JSON.stringify(taskSpec(id)),
          });
          if (response.status !== 201) throw new Error(`seeding ${id}: ${response.status} ${await response.text()}`);
        }),
      );
    }
    const pids: Record<string, number> = { api: child.pid as number, bench: process.pid };
    if (server.pid) pids['temporal server'] = server.pid;

    let getIndex = 0;
    const get = await load(
      'GET /v1/tasks/{id}',
      {
        url: base,
        connections,
        duration: seconds,
        // A create waits for its workflow; count slow answers as latency, not as errors.
        timeout: 120,
        headers,
        requests: [
          { method: 'GET', setupRequest: (req) => ({ ...req, path: `/v1/tasks/${ids[getIndex++ % ids.length]}` }) },
        ],
      },
      pids,
    );
    const bare = await bareDescribes(client, ids, get.scenario.requests, connections, {
      bench: process.pid,
      ...(server.pid ? { 'temporal server': server.pid } : {}),
    });
    let postIndex = 0;
    const post = await load(
      'POST /v1/tasks',
      {
        url: base,
        connections,
        duration: seconds,
        // A create waits for its workflow; count slow answers as latency, not as errors.
        timeout: 120,
        headers,
        requests: [
          {
            method: 'POST',
            path: '/v1/tasks',
            setupRequest: (req) => ({ ...req, body: JSON.stringify(taskSpec(`bench-${postIndex++}`)) }),
          },
        ],
      },
      pids,
    );

    const breakdown = await postBreakdown(client, TASK_QUEUE);
    const applied = applyCount ? await timedApiApply(client, base, headers, applyCount, pids) : undefined;

    const report = {
      startedAt,
      loadAverage: loadavg().map((v) => Math.round(v * 100) / 100),
      postBreakdown: breakdown,
      ...(applied ? { apply: applied } : {}),
      command,
      seconds,
      connections,
      seeded,
      machine: info,
      scenarios: [get.scenario, bare, post.scenario],
      postRequestsSent: postIndex,
    };
    const resultsDir = join(root, 'bench', 'results');
    mkdirSync(resultsDir, { recursive: true });
    const jsonPath = join(resultsDir, `api-${startedAt.replace(/:/g, '-')}.json`);
    writeFileSync(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    await updateBenchmarksMd(markdown(report));
    log(`wrote ${jsonPath} and the api section of BENCHMARKS.md`);
  } finally {
    await stopApiChild(child);
    await client?.connection.close();
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
}

const childConfig = apiChildConfig();
if (childConfig) {
  serveApiChild(childConfig).catch((error: unknown) => {
    process.stderr.write(`bench:api server: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
} else {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      process.stderr.write(`bench:api: ${(error as Error).stack ?? String(error)}\n`);
      process.exit(1);
    },
  );
}
