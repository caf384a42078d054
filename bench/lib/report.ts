import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import type { RegisterVia, SystemName } from './protocol.js';
import type { FireStats } from './stats.js';

export interface ProcessUse {
  rssMeanMb: number;
  rssPeakMb: number;
  cpuPct: number;
}

/** The Temporal server a scenario ran on: the CLI's embedded dev server, or a real multi-node cluster. */
export const serverKinds = ['embedded', 'cluster'] as const;
export type ServerKind = (typeof serverKinds)[number];

export interface ScenarioResult {
  system: SystemName;
  size: number;
  /** The Temporal systems only; absent in reports from before `--server` (they all ran embedded). */
  server?: ServerKind;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  setupMs?: number;
  drainMs?: number;
  cleanupMs?: number;
  window?: { t0: string; t1: string };
  stats?: FireStats;
  /**
   * Per process: `bench` (the child running the system's client/worker), `temporal server` (embedded) or every
   * process of the cluster (`postgres` with its backends, `temporal-<i>`, `haproxy`), `redis-server`.
   */
  processes?: Record<string, ProcessUse>;
  /** Cluster processes the supervisor restarted during the scenario (their figures cover the first instance). */
  restarts?: Record<string, number>;
}

/** `--register`: registering many surecron tasks on a fresh server. */
export interface RegistrationResult {
  server: ServerKind;
  via: RegisterVia;
  /** Tasks asked for. */
  count: number;
  status: 'ok' | 'failed';
  note?: string;
  applied?: number;
  seconds?: number;
  perSec?: number;
  /** False when the budget ran out first (the rate still holds). */
  complete?: boolean;
  processes?: Record<string, ProcessUse>;
  restarts?: Record<string, number>;
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  os: string;
  node: string;
  temporalCli: string;
  /** The server binary version the scenarios ran (embedded in the CLI, and the cluster's temporal-server). */
  temporalServer?: string;
  temporalSdk: string;
  bullmq: string;
  ioredis: string;
  redis: string;
  croner: string;
}

export interface BenchReport {
  startedAt: string;
  durationS: number;
  command: string;
  sizes: number[];
  seconds: number;
  /** Each schedule's period, seconds (absent before `--period`: 10). */
  periodSeconds?: number;
  drainMaxS: number;
  machine: Machine;
  /** The servers of the run, in order, with how the table names them (absent before `--server`: embedded). */
  servers?: { kind: ServerKind; label: string }[];
  notes: string[];
  results: ScenarioResult[];
  registrations?: RegistrationResult[];
}

export const labels: Record<SystemName, string> = {
  surecron: 'surecron (local activity)',
  'surecron-activity': 'surecron (activity task)',
  'surecron-group': 'surecron in a concurrency group (limit never reached)',
  'surecron-rate': 'surecron in a rate group (rate never reached)',
  'surecron-circuit': 'surecron behind a closed circuit breaker (activity task)',
  temporal: 'bare Temporal',
  'temporal-ahead': 'bare Temporal, fire-ahead 2 s',
  bullmq: 'BullMQ',
  croner: 'croner (in-process)',
};

const fmtMs = (value: number | null | undefined): string => (value === null || value === undefined ? '—' : `${value}`);

function ratio(value: number | null | undefined, base: number | null | undefined): string {
  if (value === null || value === undefined || base === null || base === undefined) return '—';
  if (base === 0) return value === 0 ? '1.00×' : '—';
  const r = value / base;
  return `${r >= 100 ? r.toFixed(0) : r >= 10 ? r.toFixed(1) : r.toFixed(2)}×`;
}

function totalRss(result: ScenarioResult): number | undefined {
  if (!result.processes) return undefined;
  return Math.round(Object.values(result.processes).reduce((sum, p) => sum + p.rssPeakMb, 0));
}

function rssCell(result: ScenarioResult): string {
  const procs = result.processes;
  if (!procs) return '—';
  if (result.server === 'cluster') return `${totalRss(result)}`; // per process in the table below
  const parts = Object.values(procs).map((p) => `${Math.round(p.rssPeakMb)}`);
  return parts.length > 1 ? `${totalRss(result)} (${parts.join(' + ')})` : `${totalRss(result)}`;
}

function cpuCell(result: ScenarioResult): string {
  const procs = result.processes;
  if (!procs) return '—';
  const parts = Object.values(procs).map((p) => `${Math.round(p.cpuPct)}`);
  const total = Math.round(Object.values(procs).reduce((sum, p) => sum + p.cpuPct, 0));
  if (result.server === 'cluster') return `${total}`; // per process in the table below
  return parts.length > 1 ? `${total} (${parts.join(' + ')})` : `${total}`;
}

function withCluster(report: BenchReport): boolean {
  return (report.servers ?? []).some((server) => server.kind === 'cluster');
}

/** The server a result ran on, as the table names it; BullMQ and croner run on none. */
function serverCell(report: BenchReport, result: { server?: ServerKind }): string {
  if (!result.server) return '—';
  return report.servers?.find((server) => server.kind === result.server)?.label ?? result.server;
}

/**
 * The results table: one row per size, server and system, with ratios against bare Temporal at the same size on
 * the same server (BullMQ and croner: against bare Temporal on the first server of the run). The server column
 * is there when the run includes the cluster.
 */
export function markdownTable(report: BenchReport): string {
  const showServer = withCluster(report);
  const header = [
    'N',
    'system',
    ...(showServer ? ['server'] : []),
    'due runs/s',
    'runs/s',
    'expected',
    'missed',
    'dup',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'max ms',
    'peak RSS MB',
    'CPU %',
    'p50 ÷ bare',
    'p99 ÷ bare',
    'RSS ÷ bare',
  ];
  const textColumns = showServer ? 3 : 2;
  const lines = [
    `| ${header.join(' | ')} |`,
    `|${header.map((h, i) => (i < textColumns ? ' --- ' : ' ---: ')).join('|')}|`,
  ];
  const firstServer = report.servers?.[0]?.kind;
  for (const size of report.sizes) {
    for (const result of report.results.filter((r) => r.size === size)) {
      const server = result.server ?? firstServer;
      const bare = report.results.find(
        (r) => r.size === size && r.system === 'temporal' && r.status === 'ok' && (r.server ?? firstServer) === server,
      );
      const s = result.stats;
      const lead = [size, labels[result.system], ...(showServer ? [serverCell(report, result)] : [])];
      if (result.status !== 'ok' || !s) {
        lines.push(
          `| ${lead.join(' | ')} | ${size / (report.periodSeconds ?? 10)} | ${result.status}: ${result.note ?? ''} |${' |'.repeat(header.length - lead.length - 2)}`,
        );
        continue;
      }
      const isBare = result.system === 'temporal';
      lines.push(
        `| ${[
          ...lead,
          s.dueRunsPerSec,
          s.runsPerSec,
          s.expected,
          s.missed,
          s.duplicates,
          fmtMs(s.latenessMs.p50),
          fmtMs(s.latenessMs.p95),
          fmtMs(s.latenessMs.p99),
          fmtMs(s.latenessMs.max),
          rssCell(result),
          cpuCell(result),
          isBare ? '1' : ratio(s.latenessMs.p50, bare?.stats?.latenessMs.p50),
          isBare ? '1' : ratio(s.latenessMs.p99, bare?.stats?.latenessMs.p99),
          isBare ? '1' : ratio(totalRss(result), bare ? totalRss(bare) : undefined),
        ].join(' | ')} |`,
      );
    }
  }
  return lines.join('\n');
}

const restartsNote = (restarts: Record<string, number> | undefined): string =>
  restarts && Object.keys(restarts).length
    ? ` (restarted: ${Object.entries(restarts)
        .map(([name, n]) => `${name} ${n}×`)
        .join(', ')})`
    : '';

/**
 * CPU % and peak memory of every process, one row per scenario or registration that ran with processes sampled,
 * and the busiest process (most CPU): where the bottleneck is.
 */
export function processTable(report: BenchReport): string {
  const rows: { lead: string[]; processes: Record<string, ProcessUse>; restarts?: Record<string, number> }[] = [];
  for (const r of report.results) {
    if (r.status === 'ok' && r.processes)
      rows.push({
        lead: [`${r.size}`, labels[r.system], serverCell(report, r)],
        processes: r.processes,
        ...(r.restarts ? { restarts: r.restarts } : {}),
      });
  }
  for (const r of report.registrations ?? []) {
    if (r.status === 'ok' && r.processes)
      rows.push({
        lead: [`register ${r.count}`, `surecron (${r.via})`, serverCell(report, r)],
        processes: r.processes,
        ...(r.restarts ? { restarts: r.restarts } : {}),
      });
  }
  const names: string[] = [];
  for (const row of rows) for (const name of Object.keys(row.processes)) if (!names.includes(name)) names.push(name);
  const header = ['N', 'system', 'server', 'busiest (CPU %)', ...names];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i < 4 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const row of rows) {
    const busiest = Object.entries(row.processes).sort(([, a], [, b]) => b.cpuPct - a.cpuPct)[0];
    const cells = names.map((name) => {
      const p = row.processes[name];
      return p ? `${Math.round(p.cpuPct)} % / ${Math.round(p.rssPeakMb)} MB` : '—';
    });
    const top = busiest ? `${busiest[0]} (${Math.round(busiest[1].cpuPct)})${restartsNote(row.restarts)}` : '—';
    lines.push(`| ${[...row.lead, top, ...cells].join(' | ')} |`);
  }
  return lines.join('\n');
}

/** The `--register` table: time and rate of registering many surecron tasks, per server and path. */
export function registrationTable(report: BenchReport): string {
  const header = ['server', 'path', 'tasks', 'registered', 'time s', 'tasks/s', 'peak RSS MB', 'CPU %'];
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of report.registrations ?? []) {
    const lead = [serverCell(report, r), r.via === 'store' ? 'TaskStore.create' : 'audited (taskChange)', r.count];
    if (r.status !== 'ok') {
      lines.push(`| ${lead.join(' | ')} | ${r.status}: ${r.note ?? ''} |${' |'.repeat(header.length - 4)}`);
      continue;
    }
    const procs = Object.values(r.processes ?? {});
    lines.push(
      `| ${[
        ...lead,
        `${r.applied}${r.complete ? '' : ' (budget spent)'}`,
        r.seconds,
        r.perSec,
        procs.length ? Math.round(procs.reduce((sum, p) => sum + p.rssPeakMb, 0)) : '—',
        procs.length ? Math.round(procs.reduce((sum, p) => sum + p.cpuPct, 0)) : '—',
      ].join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export function machineLines(machine: Machine): string {
  return [
    `- CPU: ${machine.cpu}, ${machine.cores} cores; RAM ${machine.ramGb} GB; ${machine.os}`,
    `- Node ${machine.node}; Temporal CLI ${machine.temporalCli}; ` +
      `${machine.temporalServer ? `Temporal server ${machine.temporalServer}; ` : ''}TypeScript SDK ${machine.temporalSdk}`,
    `- BullMQ ${machine.bullmq} (ioredis ${machine.ioredis}) on redis-server ${machine.redis}; croner ${machine.croner}`,
  ].join('\n');
}

/** The generated section of BENCHMARKS.md. */
export function markdownSection(report: BenchReport): string {
  const cluster = withCluster(report);
  const registrations = report.registrations ?? [];
  const sized = report.sizes.length > 0;
  return [
    `Run of ${report.startedAt} (took ${Math.round(report.durationS / 60)} min): ` +
      (sized
        ? `sizes ${report.sizes.join(', ')}, ${report.seconds} s measurement window per scenario, drain up to ${report.drainMaxS} s`
        : 'registration only') +
      (cluster ? `; servers: ${(report.servers ?? []).map((server) => server.label).join(', ')}` : '') +
      '.',
    '',
    machineLines(report.machine),
    '',
    'Reproduce:',
    '',
    '```sh',
    report.command,
    '```',
    '',
    ...(sized ? [markdownTable(report), ''] : []),
    ...(registrations.length
      ? [
          `Registration of surecron tasks on a fresh server each (yearly cron, so they add no fires; a surecron ` +
            `worker running; \`TaskStore.create\` = the calls the surecron scenario makes, source \`api\`, 16 at ` +
            `a time; audited = one \`taskChange\` workflow per task, as \`npm run apply\` and bench:load do, 8 at ` +
            `a time; batches of 250):`,
          '',
          registrationTable(report),
          '',
        ]
      : []),
    ...(cluster
      ? [
          'Per process, over the window (registration: over the registration), CPU % of one core / peak memory; ' +
            '_busiest_ = the process with the most CPU:',
          '',
          processTable(report),
          '',
        ]
      : []),
    ...(report.notes.length ? ['Notes from the run:', '', ...report.notes.map((n) => `- ${n}`), ''] : []),
    ...(sized
      ? [
          `Columns: _due runs/s_ = N / ${report.periodSeconds ?? 10} s; _runs/s_ = handler starts inside the window ÷ window; _expected_ = fires ` +
            'with a nominal time inside the window; _missed_ = expected fires whose handler had not started by the ' +
            'end of the drain; _dup_ = extra runs of one (schedule, nominal time); _p50…max_ = handler start − ' +
            'nominal time; _peak RSS_ = sum over the processes involved (bench process running the client/worker, ' +
            `plus the Temporal dev server${cluster ? ', every process of the cluster' : ''} or redis-server), ` +
            'sampled every second in the window; _CPU %_ = of one core over the window (200 = both cores); _÷ bare_ = ratio to bare ' +
            'Temporal at the same N' +
            (cluster
              ? ' on the same server (BullMQ and croner: on the first server of the run). On the cluster, ' +
                '`postgres` is the postmaster with all its backends (memory: their PSS summed, so shared buffers ' +
                'count once); each Temporal scenario gets a fresh cluster (new data dir, database, nodes, load ' +
                'balancer), as each gets a fresh dev server embedded.'
              : '.'),
        ]
      : []),
  ].join('\n');
}

export const START_MARK = '<!-- schedules:start -->';
export const END_MARK = '<!-- schedules:end -->';

/**
 * Replaces the generated section between the markers, keeping everything else in BENCHMARKS.md, and formats the
 * file with the project's Prettier settings.
 */
export async function updateBenchmarksMd(path: string, section: string, skeleton: string): Promise<void> {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : skeleton;
  const start = current.indexOf(START_MARK);
  const end = current.indexOf(END_MARK);
  const base = start >= 0 && end > start ? current : `${current.trimEnd()}\n\n${START_MARK}\n${END_MARK}\n`;
  const s = base.indexOf(START_MARK);
  const e = base.indexOf(END_MARK);
  const text = `${base.slice(0, s + START_MARK.length)}\n\n${section}\n\n${base.slice(e)}`;
  const options = (await resolveConfig(path)) ?? {};
  writeFileSync(path, await format(text, { ...options, filepath: path }));
}
