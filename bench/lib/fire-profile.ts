/**
 * What one fire costs, counted over a window (bench/fire-hops.ts): the server's persistence requests by operation
 * (its Prometheus endpoint), its fsyncs and writes (strace attached by pid), the worker process's CPU by thread, and
 * the main thread's JavaScript by package (a V8 CPU profile through node:inspector).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuMs, threadCpuMs } from './proc.js';
import { systemLabels, type HopReport } from './hops.js';
import type { RunRecord } from './protocol.js';

const STRACE = '/usr/bin/strace';

/** Counter values by `<store>:<service>:<operation>`, store `db` (persistence) or `visibility`. */
export type Counters = Map<string, number>;

const counterLine = /^(persistence_requests|visibility_persistence_requests)\{([^}]*)\}\s+(\d+(?:\.\d+)?)/;

/** The server's persistence request counters, read from its `/metrics` endpoint. */
export async function persistenceCounters(metricsUrl: string): Promise<Counters> {
  const text = await (await fetch(metricsUrl)).text();
  const counters: Counters = new Map();
  for (const line of text.split('\n')) {
    const match = counterLine.exec(line);
    if (!match) continue;
    const [, metric, labelText = '', value] = match;
    const label = (name: string): string => new RegExp(`${name}="([^"]*)"`).exec(labelText)?.[1] ?? '';
    const key = `${metric === 'persistence_requests' ? 'db' : 'visibility'}:${label('service_name')}:${label('operation')}`;
    counters.set(key, (counters.get(key) ?? 0) + Number(value));
  }
  return counters;
}

/** `after − before` per counter, each divided by `fires`, rounded to 0.01; zero differences left out. */
export function perFire(before: Counters, after: Counters, fires: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta > 0) out[key] = Math.round((delta / fires) * 100) / 100;
  }
  return Object.fromEntries(Object.entries(out).sort(([, a], [, b]) => b - a));
}

/** Reads and lookups: everything else a persistence operation does writes (a database transaction). */
export const isRead = (operation: string): boolean => /^(Get|List|Read|Assert|Count|Scan)/.test(operation);

/** The syscalls counted on the server: its durability (fsync, fdatasync) and its writes. */
const traced = ['fsync', 'fdatasync', 'pwrite64', 'write'] as const;

/** strace attached to `pid` and all its threads, counting {@link traced}; `stop()` detaches and returns the counts. */
export function traceSyscalls(pid: number, outFile: string): { stop(): Promise<Record<string, number>> } {
  const strace = spawn(STRACE, ['-f', '-c', '-e', `trace=${traced.join(',')}`, '-o', outFile, '-p', String(pid)], {
    stdio: 'ignore',
  });
  return {
    async stop() {
      if (strace.exitCode === null) {
        const exited = once(strace, 'exit');
        strace.kill('SIGINT');
        await exited;
      }
      const counts: Record<string, number> = {};
      for (const line of readFileSync(outFile, 'utf8').split('\n')) {
        const fields = line.trim().split(/\s+/);
        const name = fields.at(-1) as (typeof traced)[number];
        if (traced.includes(name)) counts[name] = Number(fields[3]);
      }
      return counts;
    },
  };
}

/** CPU ms of each thread group of this process, by thread name (`/proc/self/task/<tid>/comm`). */
export function cpuMsByThread(): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    const cpu = threadCpuMs(Number(tid));
    if (cpu === undefined) continue;
    let name: string;
    try {
      name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const group = threadGroup(name, Number(tid) === process.pid);
    byName.set(group, (byName.get(group) ?? 0) + cpu);
  }
  return byName;
}

/**
 * What a thread of the worker process does, from its name: the main JavaScript thread (activities, interceptors,
 * logging, the SDK's JavaScript), the workflow thread, the Rust core's runtime, and the rest.
 */
function threadGroup(name: string, main: boolean): string {
  if (main) return 'main JS thread';
  if (name.startsWith('tokio')) return 'Rust core (tokio)';
  // The SDK names its workflow thread (`workflow-processor`, cut to 15 characters by the kernel); Node names none of
  // its own: V8's platform workers (GC, compiler, the profiler's sampler) and libuv's pool are all `node`.
  if (name.startsWith('workflow-proc')) return 'workflow thread (workflow VM)';
  return name === 'node' ? 'V8 and libuv threads (GC, compiler, sampler)' : `other (${name})`;
}

/** A V8 CPU profile of the main thread; `stop()` gives its self time (ms) by package. */
export async function profileMainThread(): Promise<{ stop(): Promise<Record<string, number>> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 1000 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      const byNode = new Map(profile.nodes.map((node) => [node.id, node]));
      const ms: Record<string, number> = {};
      const deltas = profile.timeDeltas ?? [];
      (profile.samples ?? []).forEach((id, index) => {
        const node = byNode.get(id);
        if (!node) return;
        const category = jsCategory(node.callFrame.url, node.callFrame.functionName);
        if (category === '(idle)') return;
        ms[category] = (ms[category] ?? 0) + (deltas[index + 1] ?? 0) / 1000;
      });
      return Object.fromEntries(
        Object.entries(ms)
          .map(([k, v]) => [k, Math.round(v)] as const)
          .sort(([, a], [, b]) => b - a),
      );
    },
  };
}

function jsCategory(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node: internals';
  if (url.includes('/src/')) return 'surecron src/';
  if (url.includes('/bench/')) return 'bench harness';
  return 'other';
}

/** What {@link profileWindow} and {@link syscallWindow} watch: the server, and the runs the worker records. */
export interface ProfiledServer {
  serverPid: number | undefined;
  metricsUrl: string;
  records: readonly RunRecord[];
}

/** One system's cost per fire over a window: fires are the handler starts within it. */
export interface FireProfile {
  fires: number;
  seconds: number;
  persistence: { writes: number; reads: number; byOperation: Record<string, number> };
  visibility: Record<string, number>;
  cpuMs: {
    server: number;
    worker: number;
    workerThreads: Record<string, number>;
    mainThreadJs: Record<string, number>;
  };
  syscalls?: { fires: number; seconds: number; perFire: Record<string, number> };
}

const firesBetween = (records: readonly RunRecord[], from: number, to: number): number =>
  records.filter(([, , start]) => start >= from && start < to).length;

const perFireMs = (ms: Record<string, number>, fires: number): Record<string, number> =>
  Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, Math.round((v / fires) * 100) / 100]));

/** Profiles `ms` of the running system: persistence counters, the server's and the worker's CPU, the main thread. */
export async function profileWindow(server: ProfiledServer, ms: number): Promise<FireProfile> {
  const before = await persistenceCounters(server.metricsUrl);
  const serverCpu = server.serverPid === undefined ? 0 : (cpuMs(server.serverPid) ?? 0);
  const threads = cpuMsByThread();
  const profiler = await profileMainThread();
  const from = Date.now();
  await sleep(ms);
  const to = Date.now();
  const mainThreadJs = await profiler.stop();
  const after = await persistenceCounters(server.metricsUrl);
  const serverCpuAfter = server.serverPid === undefined ? 0 : (cpuMs(server.serverPid) ?? 0);
  const fires = Math.max(1, firesBetween(server.records, from, to));
  const workerThreads: Record<string, number> = {};
  for (const [name, value] of cpuMsByThread()) workerThreads[name] = value - (threads.get(name) ?? 0);
  const counts = perFire(before, after, fires);
  const db = Object.entries(counts).filter(([key]) => key.startsWith('db:'));
  const sum = (entries: [string, number][]): number =>
    Math.round(entries.reduce((total, [, n]) => total + n, 0) * 100) / 100;
  return {
    fires,
    seconds: Math.round((to - from) / 100) / 10,
    persistence: {
      writes: sum(db.filter(([key]) => !isRead(key.split(':')[2] ?? ''))),
      reads: sum(db.filter(([key]) => isRead(key.split(':')[2] ?? ''))),
      byOperation: Object.fromEntries(db.map(([key, n]) => [key.slice('db:'.length), n])),
    },
    visibility: Object.fromEntries(
      Object.entries(counts)
        .filter(([key]) => key.startsWith('visibility:'))
        .map(([key, n]) => [key.slice('visibility:'.length), n]),
    ),
    cpuMs: {
      server: Math.round(((serverCpuAfter - serverCpu) / fires) * 100) / 100,
      worker: Math.round((Object.values(workerThreads).reduce((a, b) => a + b, 0) / fires) * 100) / 100,
      workerThreads: perFireMs(workerThreads, fires),
      mainThreadJs: perFireMs(mainThreadJs, fires),
    },
  };
}

/** Counts the server's syscalls for `ms` (strace slows it: a window of its own, after {@link profileWindow}'s). */
export async function syscallWindow(
  server: ProfiledServer,
  ms: number,
  outFile: string,
): Promise<FireProfile['syscalls']> {
  if (server.serverPid === undefined || !existsSync(STRACE)) {
    process.stdout.write(`bench:hops: no syscall counts (${STRACE} missing: apt-get install strace)\n`);
    return undefined;
  }
  const trace = traceSyscalls(server.serverPid, outFile);
  const from = Date.now();
  await sleep(ms);
  const to = Date.now();
  const counts = await trace.stop();
  const fires = Math.max(1, firesBetween(server.records, from, to));
  return { fires, seconds: Math.round((to - from) / 100) / 10, perFire: perFireMs(counts, fires) };
}

/** Keys of `records` whose value reaches `min` in at least one of them, largest first. */
function keysOver(records: readonly Record<string, number>[], min: number): string[] {
  const top = new Map<string, number>();
  for (const record of records)
    for (const [key, n] of Object.entries(record)) top.set(key, Math.max(top.get(key) ?? 0, n));
  return [...top]
    .filter(([, n]) => n >= min)
    .sort(([, a], [, b]) => b - a)
    .map(([key]) => key);
}

/** One row per cost, one column per system: what a fire costs, per fire. */
export function profileTable(reports: readonly (HopReport & { profile: FireProfile })[]): string {
  const rows: [string, (r: HopReport & { profile: FireProfile }) => number | undefined][] = [
    ['run history events', (r) => r.history.runEvents],
    ['… workflow tasks completed', (r) => r.history.workflowTasks],
    ['… activity tasks scheduled', (r) => r.history.activityTasks],
    ['… markers (local activities, side effects)', (r) => r.history.markers],
    ['… search attribute upserts', (r) => r.history.searchAttributeUpserts],
    ['… timers', (r) => r.history.timers],
    ['scheduler workflow events per fire', (r) => r.history.schedulerEventsPerFire],
    ['persistence writes (transactions)', (r) => r.profile.persistence.writes],
  ];
  const writes = reports.map((r) =>
    Object.fromEntries(
      Object.entries(r.profile.persistence.byOperation).filter(([key]) => !isRead(key.split(':')[1] ?? '')),
    ),
  );
  for (const key of keysOver(writes, 0.05)) rows.push([`… ${key}`, (r) => r.profile.persistence.byOperation[key] ?? 0]);
  rows.push(['persistence reads', (r) => r.profile.persistence.reads]);
  rows.push(['visibility requests', (r) => Object.values(r.profile.visibility).reduce((a, b) => a + b, 0)]);
  for (const key of keysOver(
    reports.map((r) => r.profile.visibility),
    0.05,
  ))
    rows.push([`… ${key}`, (r) => r.profile.visibility[key] ?? 0]);
  for (const call of ['fsync', 'fdatasync', 'pwrite64', 'write'])
    rows.push([
      `server ${call} calls (strace)`,
      (r) => r.profile.syscalls?.perFire[call] ?? (r.profile.syscalls ? 0 : undefined),
    ]);
  rows.push(['server CPU ms', (r) => r.profile.cpuMs.server]);
  rows.push(['worker process CPU ms', (r) => r.profile.cpuMs.worker]);
  for (const key of keysOver(
    reports.map((r) => r.profile.cpuMs.workerThreads),
    0.05,
  ))
    rows.push([`… ${key}`, (r) => r.profile.cpuMs.workerThreads[key] ?? 0]);
  for (const key of keysOver(
    reports.map((r) => r.profile.cpuMs.mainThreadJs),
    0.1,
  ))
    rows.push([`… main thread JS: ${key}`, (r) => r.profile.cpuMs.mainThreadJs[key] ?? 0]);
  const round = (n: number): string => String(Math.round(n * 100) / 100);
  const header = ['per fire', ...reports.map((r) => `${systemLabels[r.system]} (${r.profile.fires} fires)`)];
  return [
    `| ${header.join(' | ')} |`,
    `| --- |${reports.map(() => ' ---: |').join('')}`,
    ...rows.map(
      ([label, value]) =>
        `| ${label} | ${reports
          .map((r) => {
            const n = value(r);
            return n === undefined ? '—' : round(n);
          })
          .join(' | ')} |`,
    ),
  ].join('\n');
}
