import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { format, resolveConfig } from 'prettier';
import type { SystemName } from './protocol.js';
import type { FireStats } from './stats.js';

export interface ProcessUse {
  rssMeanMb: number;
  rssPeakMb: number;
  cpuPct: number;
}

export interface ScenarioResult {
  system: SystemName;
  size: number;
  status: 'ok' | 'skipped' | 'failed';
  note?: string;
  setupMs?: number;
  drainMs?: number;
  cleanupMs?: number;
  window?: { t0: string; t1: string };
  stats?: FireStats;
  /** Per process: `bench` (the child running the system's client/worker), `temporal server`, `redis-server`. */
  processes?: Record<string, ProcessUse>;
}

export interface Machine {
  cpu: string;
  cores: number;
  ramGb: number;
  os: string;
  node: string;
  temporalCli: string;
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
  drainMaxS: number;
  machine: Machine;
  notes: string[];
  results: ScenarioResult[];
}

export const labels: Record<SystemName, string> = {
  surecron: 'surecron',
  temporal: 'bare Temporal',
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
  const parts = Object.values(procs).map((p) => `${Math.round(p.rssPeakMb)}`);
  return parts.length > 1 ? `${totalRss(result)} (${parts.join(' + ')})` : `${totalRss(result)}`;
}

function cpuCell(result: ScenarioResult): string {
  const procs = result.processes;
  if (!procs) return '—';
  const parts = Object.values(procs).map((p) => `${Math.round(p.cpuPct)}`);
  const total = Math.round(Object.values(procs).reduce((sum, p) => sum + p.cpuPct, 0));
  return parts.length > 1 ? `${total} (${parts.join(' + ')})` : `${total}`;
}

/** The results table: one row per size and system, with ratios against bare Temporal at the same size. */
export function markdownTable(report: BenchReport): string {
  const header = [
    'N',
    'system',
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
  const lines = [`| ${header.join(' | ')} |`, `|${header.map((h, i) => (i < 2 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const size of report.sizes) {
    const bare = report.results.find((r) => r.size === size && r.system === 'temporal' && r.status === 'ok');
    for (const result of report.results.filter((r) => r.size === size)) {
      const s = result.stats;
      if (result.status !== 'ok' || !s) {
        lines.push(
          `| ${size} | ${labels[result.system]} | ${size / 10} | ${result.status}: ${result.note ?? ''} |${' |'.repeat(header.length - 4)}`,
        );
        continue;
      }
      const isBare = result.system === 'temporal';
      lines.push(
        `| ${[
          size,
          labels[result.system],
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

export function machineLines(machine: Machine): string {
  return [
    `- CPU: ${machine.cpu}, ${machine.cores} cores; RAM ${machine.ramGb} GB; ${machine.os}`,
    `- Node ${machine.node}; Temporal CLI ${machine.temporalCli}; TypeScript SDK ${machine.temporalSdk}`,
    `- BullMQ ${machine.bullmq} (ioredis ${machine.ioredis}) on redis-server ${machine.redis}; croner ${machine.croner}`,
  ].join('\n');
}

/** The generated section of BENCHMARKS.md. */
export function markdownSection(report: BenchReport): string {
  return [
    `Run of ${report.startedAt} (took ${Math.round(report.durationS / 60)} min): sizes ${report.sizes.join(', ')}, ` +
      `${report.seconds} s measurement window per scenario, drain up to ${report.drainMaxS} s.`,
    '',
    machineLines(report.machine),
    '',
    'Reproduce:',
    '',
    '```sh',
    report.command,
    '```',
    '',
    markdownTable(report),
    '',
    ...(report.notes.length ? ['Notes from the run:', '', ...report.notes.map((n) => `- ${n}`), ''] : []),
    'Columns: _due runs/s_ = N / 10 s; _runs/s_ = handler starts inside the window ÷ window; _expected_ = fires with ' +
      'a nominal time inside the window; _missed_ = expected fires whose handler had not started by the end of the ' +
      'drain; _dup_ = extra runs of one (schedule, nominal time); _p50…max_ = handler start − nominal time; ' +
      '_peak RSS_ = sum over the processes involved (bench process running the client/worker, plus the Temporal dev ' +
      'server or redis-server), sampled every second in the window; _CPU %_ = of one core over the window (200 = both ' +
      'cores); _÷ bare_ = ratio to bare Temporal at the same N.',
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
