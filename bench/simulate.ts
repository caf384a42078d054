/**
 * `npm run bench:simulate [-- --tasks 10000 --days 365 --from 2027-01-01T00:00:00Z]`
 *
 * Times `simulate()` (src/tasks/simulate.ts) on a mix of 10,000 tasks over a year, no server involved: 50 % daily
 * crons (a third each in UTC, Europe/Berlin and America/New_York), 20 % hourly crons, 10 % `every: 15m` with
 * offsets, 10 % weekday crons, 5 % weekly crons, and 5 % a planted crowd (`0 9 * * *` UTC, all on one second).
 * It prints the machine, the time `fireRuns` takes for every task over the window (the fire runs the simulator
 * consumes) next to `scheduleFires` (the same fires one by one), and the time of the whole simulation (fires, load
 * per second, crowds, suggestions and their verification), and checks that the crowd is found and that the
 * suggestion removes it. Writes bench/results/simulate-<timestamp>.json.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fireRuns } from '../src/tasks/fire-runs.js';
import { scheduleFires } from '../src/tasks/fires.js';
import { simulate, type SimulationTask } from '../src/tasks/simulate.js';
import type { ScheduleDef } from '../src/tasks/spec.js';

const root = new URL('..', import.meta.url).pathname;

function machine(): string {
  let cpu = 'unknown CPU';
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB RAM, Node ${process.version}`;
}

/** The benchmark's task mix, deterministic. */
export function benchTasks(count: number): SimulationTask[] {
  const zones = ['UTC', 'Europe/Berlin', 'America/New_York'];
  const tasks: SimulationTask[] = [];
  for (let i = 0; i < count; i++) {
    const minute = (i * 7) % 60;
    const hour = (i * 5) % 24;
    const slot = i % 20;
    let schedule: ScheduleDef;
    if (slot < 10) schedule = { cron: `${minute} ${hour} * * *`, timezone: zones[i % 3] };
    else if (slot < 14) schedule = { cron: `${minute} * * * *` };
    else if (slot < 16) schedule = { every: '15m', offset: `${(i * 13) % 900}s` };
    else if (slot < 18) schedule = { cron: `${minute} ${hour} * * 1-5`, timezone: 'Europe/Berlin' };
    else if (slot < 19) schedule = { cron: `${minute} ${hour} * * 0` };
    else schedule = { cron: '0 9 * * *' };
    tasks.push({ id: `bench-${String(i).padStart(5, '0')}`, schedule });
  }
  return tasks;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      tasks: { type: 'string', default: '10000' },
      days: { type: 'string', default: '365' },
      from: { type: 'string', default: '2027-01-01T00:00:00Z' },
    },
  });
  const count = Number(values.tasks);
  const fromMs = Date.parse(values.from);
  const toMs = fromMs + Number(values.days) * 86_400_000;
  const tasks = benchTasks(count);
  process.stdout.write(`machine: ${machine()}\n`);
  process.stdout.write(`tasks: ${count} over ${values.days} days from ${values.from}\n`);

  let runs = 0;
  let runFires = 0;
  const runsStarted = performance.now();
  for (const task of tasks) {
    const result = fireRuns(task.schedule, fromMs, toMs);
    runs += result.runs.length;
    runFires += result.fires;
  }
  const fireRunsS = (performance.now() - runsStarted) / 1000;
  process.stdout.write(`fireRuns alone: ${runFires} fires in ${runs} runs in ${fireRunsS.toFixed(2)} s\n`);
  let fires = 0;
  const firesStarted = performance.now();
  for (const task of tasks) fires += scheduleFires(task.schedule, fromMs, toMs).fires.length;
  const firesS = (performance.now() - firesStarted) / 1000;
  process.stdout.write(`scheduleFires alone (one by one, for comparison): ${fires} fires in ${firesS.toFixed(2)} s\n`);

  const started = performance.now();
  const result = simulate(tasks, { fromMs, toMs });
  const totalS = (performance.now() - started) / 1000;
  const verification = result.verification;
  process.stdout.write(
    [
      `simulate: ${totalS.toFixed(2)} s (${result.totalFires} fires; peak ${result.peak.firesPerSecond}/s at ${result.peak.at ?? '—'})`,
      `  crowded seconds at ${result.startRate}/s: ${result.crowdedSeconds}; suggestions: ${result.suggestions.length}` +
        ` (e.g. ${result.suggestions[0]?.taskId ?? '—'} jitter ${result.suggestions[0]?.jitter ?? '—'}); unresolved: ${result.unresolved.length}`,
      `  verified in ${verification?.rounds ?? 0} round(s): crowded seconds after ${verification?.crowdedSeconds ?? 0},` +
        ` peak after ${verification?.peak.firesPerSecond ?? result.peak.firesPerSecond}/s, resolved: ${verification?.resolved ?? true}`,
      `  the simulator's own share (total − fireRuns): ≈ ${(totalS - fireRunsS).toFixed(2)} s`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(root, 'bench', 'results'), { recursive: true });
  const file = join(root, 'bench', 'results', `simulate-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const summary = { ...result, tasks: result.tasks.length, suggestions: result.suggestions.length };
  writeFileSync(
    file,
    `${JSON.stringify({ machine: machine(), days: Number(values.days), fireRunsS, runs, firesS, totalS, tasksSimulated: count, ...summary }, null, 2)}\n`,
  );
  process.stdout.write(`wrote ${file}\n`);
  if (!verification?.resolved || result.crowdedSeconds === 0 || runFires !== fires) process.exitCode = 1;
}

main();
