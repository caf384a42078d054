/**
 * One system at one size, in a child process of bench/schedules.ts so each measurement has its own heap and its
 * own RSS. Protocol (IPC): → ready; ← window; → result (after the window and a drain); → stopped.
 * Registration mode (`config.register`): → ready (a surecron worker runs); ← register; → registered; → stopped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cadenceOf } from './lib/cadence.js';
import type { ChildMessage, ParentMessage, Recorder, RunRecord, RunnerConfig, RunningSystem } from './lib/protocol.js';
import { registrationSpecs, timedApply } from './lib/register.js';
import { TaskService } from '../src/tasks/service.js';
import { startBullmq } from './systems/bullmq.js';
import { startCroner } from './systems/croner.js';
import {
  startSurecron,
  startSurecronActivity,
  startSurecronCircuit,
  startSurecronGroup,
  startSurecronRate,
  startSurecronWorker,
} from './systems/surecron.js';
import { startTemporal, startTemporalAhead } from './systems/temporal.js';

const starters: Record<RunnerConfig['system'], (config: RunnerConfig, record: Recorder) => Promise<RunningSystem>> = {
  surecron: startSurecron,
  'surecron-activity': startSurecronActivity,
  'surecron-group': startSurecronGroup,
  'surecron-rate': startSurecronRate,
  'surecron-circuit': startSurecronCircuit,
  temporal: startTemporal,
  'temporal-ahead': startTemporalAhead,
  bullmq: startBullmq,
  croner: startCroner,
};

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) reject(new Error('bench/runner.ts runs as a child of bench/schedules.ts'));
    else process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * Registers `config.size` surecron tasks (yearly cron, so none fires) with a surecron worker running, timed from
 * the parent's `register`. The cluster is thrown away afterwards, so the tasks are not deleted.
 */
async function register(config: RunnerConfig, onMessage: Promise<ParentMessage>): Promise<void> {
  const { via, budgetMs } = config.register as NonNullable<RunnerConfig['register']>;
  const setupStarted = Date.now();
  const { client, store, stopWorker } = await startSurecronWorker(config, () => undefined);
  const specs = registrationSpecs(config.size, 'bench', 'bench:schedules registration');
  await send({ type: 'ready', setupMs: Date.now() - setupStarted });
  await onMessage;
  const log = (line: string): void => {
    process.stdout.write(`[${new Date().toISOString().slice(11, 19)}]   ${line}\n`);
  };
  // `store`: the calls the surecron scenario makes (TaskStore.create, source api, 16 at a time); `audited`: what
  // `npm run apply` and bench/load.ts do (one audited taskChange workflow per task, applyTasks' default of 8).
  const timing =
    via === 'store'
      ? await timedApply(store, specs, budgetMs, `register via ${via}`, log, { source: 'api', concurrency: 16 })
      : await timedApply(
          new TaskService(client, store).writer('bench-schedules'),
          specs,
          budgetMs,
          `register via ${via}`,
          log,
        );
  await send({ type: 'registered', ...timing });
  const cleanupStarted = Date.now();
  await stopWorker();
  await send({ type: 'stopped', cleanupMs: Date.now() - cleanupStarted });
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.BENCH_RUNNER_CONFIG ?? '') as RunnerConfig;
  // The parent went away (stopped early): nobody reads our results and its servers are gone.
  process.once('disconnect', () => process.exit(1));
  if (config.register) {
    const registerReceived = new Promise<ParentMessage>((resolve) => {
      process.on('message', (message: ParentMessage) => {
        if (message.type === 'register') resolve(message);
      });
    });
    await register(config, registerReceived);
    return;
  }
  type WindowMessage = Extract<ParentMessage, { type: 'window' }>;
  const state: { window?: WindowMessage } = {};
  const windowReceived = new Promise<WindowMessage>((resolve) => {
    process.on('message', (message: ParentMessage) => {
      if (message.type === 'window') resolve(message);
    });
  });
  const records: RunRecord[] = [];
  let startedInWindow = 0;
  let lastInWindowAt = Date.now();
  const record: Recorder = (i, nominal, start) => {
    const { window } = state;
    if (!window) return; // still warming up
    if (start >= window.t0 && start < window.t1) startedInWindow += 1;
    if (nominal >= window.t0 && nominal < window.t1) {
      records.push([i, nominal, start]);
      lastInWindowAt = start;
    }
  };

  const setupStarted = Date.now();
  const system = await starters[config.system](config, record);
  await send({ type: 'ready', setupMs: Date.now() - setupStarted });

  state.window = await windowReceived;
  const { t0, t1, drainMaxMs } = state.window;
  const expected = cadenceOf(config).expectedFires(config.size, t0, t1);
  await sleep(Math.max(0, t1 - Date.now()));
  // Drain: wait for late runs of the window until every fire ran, nothing came for 10 s, or drainMaxMs passed.
  const drainStarted = Date.now();
  const unique = (): number => new Set(records.map(([i, nominal]) => `${i}@${nominal}`)).size;
  while (Date.now() - drainStarted < drainMaxMs) {
    if (unique() >= expected && Date.now() - drainStarted >= 1000) break;
    if (Date.now() - Math.max(lastInWindowAt, drainStarted) > 10_000) break;
    await sleep(250);
  }
  const snapshot = records.slice();
  await send({ type: 'result', records: snapshot, startedInWindow, drainMs: Date.now() - drainStarted });

  const cleanupStarted = Date.now();
  await system.stop();
  await send({ type: 'stopped', cleanupMs: Date.now() - cleanupStarted });
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    await send({ type: 'error', message: (error as Error).stack ?? String(error) }).catch(() => undefined);
    process.exit(1);
  },
);
