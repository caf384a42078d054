import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EMBEDDED_START_RATE,
  MAX_SIMULATION_MS,
  safeMean,
  simulate,
  startRates,
  type SimulationTask,
} from '../../src/tasks/simulate.js';
import type { ScheduleDef } from '../../src/tasks/spec.js';

const from = Date.parse('2027-01-01T00:00:00Z');
const to = Date.parse('2028-01-01T00:00:00Z');
const task = (id: string, schedule: ScheduleDef, extra: Partial<SimulationTask> = {}): SimulationTask => ({
  id,
  schedule,
  ...extra,
});

/** 500 tasks that all fire at 09:00:00 UTC every day, and some quiet background. */
function plantedCrowd(): SimulationTask[] {
  const tasks: SimulationTask[] = [];
  for (let i = 0; i < 500; i++) tasks.push(task(`crowd-${i}`, { cron: '0 9 * * *' }));
  for (let i = 0; i < 100; i++) tasks.push(task(`background-${i}`, { every: '1h', offset: `${60 + i * 7}s` }));
  return tasks;
}

describe('simulate: a year of fires and the crowds in it', () => {
  it('finds a planted crowd of 500 tasks on one second, and its suggestion removes it', () => {
    const tasks = plantedCrowd();
    const result = simulate(tasks, { fromMs: from, toMs: to });
    assert.equal(result.startRate, EMBEDDED_START_RATE);
    assert.equal(result.totalFires, 500 * 365 + 100 * 8760);
    // Found: every day at 09:00:00 UTC, 500 starts in one second.
    assert.equal(result.crowdedSeconds, 365);
    assert.equal(result.peak.firesPerSecond, 500);
    assert.equal(result.peak.at, '2027-01-01T09:00:00Z');
    assert.equal(result.crowds.length, 10);
    assert.deepEqual(result.crowds[0], {
      at: '2027-01-01T09:00:00Z',
      fires: 500,
      tasks: 500,
      taskIds: Array.from({ length: 10 }, (_, i) => `crowd-${i}`),
    });
    assert.equal(result.tasks.find((view) => view.id === 'crowd-7')?.crowdedFires, 365);
    assert.equal(result.tasks.find((view) => view.id === 'background-3')?.crowdedFires, 0);
    // One concrete jitter per crowding task, none for the background.
    assert.equal(result.suggestions.length, 500);
    assert.ok(result.suggestions.every((s) => s.taskId.startsWith('crowd-')));
    const [first] = result.suggestions;
    assert.deepEqual(first, {
      taskId: 'crowd-0',
      jitter: '30s',
      schedule: { cron: '0 9 * * *', jitter: '30s' },
      crowdedFires: 365,
      worstSecond: 500,
    });
    assert.deepEqual(result.unresolved, []);
    // Verified by the simulator itself…
    assert.equal(result.verification?.resolved, true);
    assert.equal(result.verification?.crowdedSeconds, 0);
    assert.ok((result.verification?.peak.firesPerSecond ?? Infinity) <= safeMean(EMBEDDED_START_RATE) + 1);
    // …and again from the outside: the tasks with the suggested schedules have no crowded second.
    const suggested = new Map(result.suggestions.map((s) => [s.taskId, s.schedule]));
    const applied = tasks.map((t) => ({ ...t, schedule: suggested.get(t.id) ?? t.schedule }));
    const again = simulate(applied, { fromMs: from, toMs: to });
    assert.equal(again.crowdedSeconds, 0);
    assert.deepEqual(again.suggestions, []);
    assert.equal(again.verification, undefined);
    assert.ok(again.peak.firesPerSecond < 33, String(again.peak.firesPerSecond));
  });

  it('counts the DST events of a Europe/Berlin task across 2027 and says what the policy did', () => {
    const result = simulate(
      [
        task('berlin.shift', { cron: '30 2 * * *', timezone: 'Europe/Berlin' }),
        task('berlin.skip-twice', {
          cron: '30 2 * * *',
          timezone: 'Europe/Berlin',
          dst: { skipped: 'skip', repeated: 'twice' },
        }),
        task('utc', { cron: '30 2 * * *' }),
      ],
      { fromMs: from, toMs: to },
    );
    const [shift, skipTwice, utc] = result.tasks;
    assert.equal(shift?.fires, 365);
    assert.equal(shift?.dstEventCount, 2);
    assert.deepEqual(shift?.dst, { gap: 1, repeat: 1, shift: 1, skip: 0, once: 1, twice: 0 });
    assert.deepEqual(
      shift?.dstEvents.map((event) => [event.wall, event.change, event.applied]),
      [
        ['2027-03-28T02:30:00', 'gap', 'shift'],
        ['2027-10-31T02:30:00', 'repeat', 'once'],
      ],
    );
    // Skipped in the gap, twice in the repeated hour: 365 − 1 + 1.
    assert.equal(skipTwice?.fires, 365);
    assert.deepEqual(skipTwice?.dst, { gap: 1, repeat: 1, shift: 0, skip: 1, once: 0, twice: 1 });
    assert.equal(utc?.dstEventCount, 0);
    assert.deepEqual(utc?.dstEvents, []);
    assert.equal(result.crowdedSeconds, 0);
  });

  it('treats jittered tasks as spread: their expected load, not their nominal second', () => {
    const tasks = Array.from({ length: 500 }, (_, i) => task(`spread-${i}`, { cron: '0 9 * * *', jitter: '1m' }));
    const result = simulate(tasks, { fromMs: from, toMs: to });
    assert.equal(result.crowdedSeconds, 0);
    // 500 fires spread evenly over 60 s.
    assert.ok(Math.abs(result.peak.firesPerSecond - 500 / 60) < 0.01, String(result.peak.firesPerSecond));
    assert.deepEqual(result.suggestions, []);
  });

  it('caps jitter at the gap to the next fire, as Temporal does, and says when no jitter can help', () => {
    const tasks = Array.from({ length: 40 }, (_, i) => task(`busy-${i}`, { every: '1s', jitter: '1m' }));
    const day = from + 86_400_000;
    const result = simulate(tasks, { fromMs: from, toMs: day });
    // Each fire spreads over one second only: 40 starts every second (but the last, whose next fire lies past
    // the window, so its jitter is not capped there).
    assert.equal(result.crowdedSeconds, 86_399);
    assert.equal(result.peak.firesPerSecond, 40);
    assert.deepEqual(result.suggestions, []);
    assert.equal(result.unresolved.length, 40);
    assert.match(result.unresolved[0]?.reason ?? '', /every 1s.*caps jitter/);
    assert.equal(result.verification?.resolved, false);
  });

  it('holds the load against every rate, the first as target; paused tasks add none', () => {
    const tasks = [
      ...Array.from({ length: 100 }, (_, i) => task(`t-${i}`, { cron: '0 0 * * *' })),
      ...Array.from({ length: 100 }, (_, i) => task(`p-${i}`, { cron: '0 0 * * *' }, { paused: true })),
    ];
    const rates = startRates({ cluster: 200 });
    assert.deepEqual(
      rates.map((rate) => [rate.name, rate.startRate]),
      [
        ['cluster', 200],
        ['embedded', 33],
      ],
    );
    const result = simulate(tasks, { fromMs: from, toMs: to, rates });
    assert.equal(result.startRate, 200);
    assert.equal(result.crowdedSeconds, 0);
    assert.deepEqual(
      result.rates.map((rate) => [rate.name, rate.crowdedSeconds]),
      [
        ['cluster', 0],
        ['embedded', 365],
      ],
    );
    assert.equal(result.peak.firesPerSecond, 100);
    assert.equal(result.tasks.find((view) => view.id === 'p-1')?.paused, true);
    assert.equal(result.tasks.find((view) => view.id === 'p-1')?.fires, 365);
    const requested = simulate(tasks, { fromMs: from, toMs: to, rates: startRates({ requested: 50, cluster: 200 }) });
    assert.equal(requested.startRate, 50);
    assert.equal(requested.crowdedSeconds, 365);
    assert.equal(requested.verification?.resolved, true);
  });

  it('stops a schedule after its remaining runs', () => {
    const result = simulate([task('limited', { every: '1h' }, { remainingRuns: 5 })], { fromMs: from, toMs: to });
    assert.equal(result.tasks[0]?.fires, 5);
    assert.equal(result.totalFires, 5);
  });

  it('spreads across chunk boundaries without losing a fire', () => {
    // 100 tasks with 10 min of jitter every 12 h over 3 months (several 48-day chunks): the load sums to the fires.
    const tasks = Array.from({ length: 100 }, (_, i) => task(`j-${i}`, { every: '12h', jitter: '10m' }));
    const end = from + 90 * 86_400_000;
    const result = simulate(tasks, { fromMs: from, toMs: end, rates: startRates({ requested: 0.1 }) });
    // 100 fires over 600 s: 1/6 a second in each of them, every 12 h.
    assert.ok(Math.abs(result.peak.firesPerSecond - 100 / 600) < 0.01, String(result.peak.firesPerSecond));
    assert.equal(result.crowdedSeconds, 180 * 600);
  });

  it('refuses an empty or reversed window and one longer than 10 years, and takes 10 years', () => {
    assert.throws(() => simulate([], { fromMs: to, toMs: from }), RangeError);
    assert.throws(() => simulate([], { fromMs: from, toMs: from }), RangeError);
    assert.throws(() => simulate([], { fromMs: from, toMs: from + MAX_SIMULATION_MS + 1 }), /at most 10 years/);
    const decade = simulate([task('yearly', { cron: '0 0 1 1 *' })], { fromMs: from, toMs: from + MAX_SIMULATION_MS });
    assert.equal(decade.tasks[0]?.fires, 10);
    assert.equal(decade.crowdedSeconds, 0);
  });
});

describe('simulate: rate groups', () => {
  const day = Date.parse('2027-01-02T00:00:00Z');
  const rate = (group: string, perSecond: number) => ({ rateLimit: { group, perSecond } });

  it('queues a group of 10 daily tasks on one second at 2/s: the last waits 4.5 s, 9 of 10 wait', () => {
    const tasks = Array.from({ length: 10 }, (_, i) => task(`erp-${i}`, { cron: '0 9 * * *' }, rate('erp', 2)));
    const result = simulate([...tasks, task('free', { cron: '0 9 * * *' })], { fromMs: from, toMs: day });
    assert.deepEqual(result.rateGroups, [
      {
        group: 'erp',
        perSecond: 2,
        taskIds: tasks.map((t) => t.id),
        fires: 10,
        demandPerSecond: 0.0001157,
        delayedFires: 9,
        maxDelayMs: 4500,
        worstAt: '2027-01-01T09:00:00Z',
      },
    ]);
  });

  it('a demand above the rate grows without end: 2 tasks every second at 1/s over an hour', () => {
    const hour = from + 3_600_000;
    const tasks = [task('a', { every: '1s' }, rate('api', 1)), task('b', { every: '1s' }, rate('api', 1))];
    const [report] = simulate(tasks, { fromMs: from, toMs: hour }).rateGroups ?? [];
    assert.equal(report?.fires, 7200);
    assert.equal(report?.demandPerSecond, 2);
    // One start a second for two fires a second: the j-th fire starts ceil(j / 2) s late, the last an hour.
    assert.equal(report?.maxDelayMs, 3_600_000);
    assert.equal(report?.worstAt, '2027-01-01T00:59:59Z');
  });

  it('paused tasks and tasks without a group add nothing; the strictest declared rate applies', () => {
    const tasks = [
      task('a', { cron: '0 9 * * *' }, rate('g', 5)),
      task('b', { cron: '0 9 * * *' }, rate('g', 1)),
      task('c', { cron: '0 9 * * *' }, { ...rate('g', 1), paused: true }),
    ];
    const [report] = simulate(tasks, { fromMs: from, toMs: day }).rateGroups ?? [];
    assert.equal(report?.perSecond, 1);
    assert.deepEqual(report?.taskIds, ['a', 'b']);
    assert.equal(report?.maxDelayMs, 1000);
    assert.equal(simulate([task('x', { every: '1h' })], { fromMs: from, toMs: day }).rateGroups, undefined);
  });
});
