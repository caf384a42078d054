import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { transitionsBetween } from '../../src/cron/tz.js';
import { fireRuns } from '../../src/tasks/fire-runs.js';
import { scheduleFires, type DstEvent } from '../../src/tasks/fires.js';
import { RunBuilder, type FireRun } from '../../src/tasks/run-length.js';
import type { ScheduleDef } from '../../src/tasks/spec.js';
import { oracleExpressions, oraclePolicies } from '../helpers/dst-cases.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
const YEAR_FROM = Date.UTC(2027, 0, 1);
const YEAR_TO = Date.UTC(2028, 0, 1);
const zones = [
  'UTC',
  'Europe/Berlin',
  'America/New_York',
  'Australia/Lord_Howe',
  'Australia/Sydney',
  'America/Santiago',
  'Europe/Dublin',
  'Asia/Kolkata',
];
/** Windows around a transition `t`: on it, just either side of it, and across the edges of the policy stretch. */
const aroundTransition: [number, number][] = [
  [-10 * DAY, 10 * DAY],
  [0, 5 * DAY],
  [-5 * DAY, 0],
  [-HOUR, HOUR],
  [-1000, 1000],
  [-1, 1],
  [-4 * DAY - HOUR, 4 * DAY + HOUR],
  [-4 * DAY, 4 * DAY],
  [-4 * DAY + HOUR, 3 * DAY],
  [30 * 60_000, 2 * DAY],
  [-2 * DAY, -30 * 60_000],
];
const iso = (ms: number): string => new Date(ms).toISOString();
const transitions = (zone: string): number[] => transitionsBetween(zone, YEAR_FROM, YEAR_TO).map((tr) => tr.atMs);

function expand(runs: readonly FireRun[]): number[] {
  const fires: number[] = [];
  for (const { start, delta, count } of runs) for (let k = 0; k < count; k++) fires.push(start + k * delta);
  return fires;
}

/** `scheduleFires`, cut to the first `limit` fires and the events not after the last of them. */
function expected(schedule: ScheduleDef, fromMs: number, toMs: number, limit = Infinity) {
  const { fires, dstEvents } = scheduleFires(schedule, fromMs, toMs);
  if (fires.length <= limit) return { fires: fires.map((fire) => fire.atMs), dstEvents };
  const kept = fires.slice(0, Math.max(0, limit)).map((fire) => fire.atMs);
  const last = kept.at(-1) ?? -Infinity;
  return { fires: kept, dstEvents: dstEvents.filter((event) => Date.parse(event.at) <= last) };
}

/** Compares fireRuns with scheduleFires; returns the fires and events compared, or a mismatch. */
function compare(
  schedule: ScheduleDef,
  fromMs: number,
  toMs: number,
  limit?: number,
): { fires: number; events: number; mismatch?: string } {
  const want = expected(schedule, fromMs, toMs, limit);
  const got = fireRuns(schedule, fromMs, toMs, limit);
  const fires = expand(got.runs);
  const what = `${JSON.stringify(schedule)} [${iso(fromMs)}, ${iso(toMs)}) limit ${limit ?? '∞'}`;
  const sameFires = got.fires === fires.length && JSON.stringify(fires) === JSON.stringify(want.fires);
  const sameEvents = JSON.stringify(got.dstEvents) === JSON.stringify(want.dstEvents);
  const mismatch =
    sameFires && sameEvents
      ? undefined
      : `${what}: ${fires.length}/${want.fires.length} fires, events ${sameEvents ? 'equal' : JSON.stringify(got.dstEvents)}`;
  return { fires: want.fires.length, events: want.dstEvents.length, ...(mismatch ? { mismatch } : {}) };
}

/** Runs comparisons; asserts none mismatched and returns how many fires and events were compared. */
function compareAll(cases: Iterable<[ScheduleDef, number, number, number?]>): { fires: number; events: number } {
  const mismatches: string[] = [];
  let fires = 0;
  let events = 0;
  for (const [schedule, fromMs, toMs, limit] of cases) {
    const result = compare(schedule, fromMs, toMs, limit);
    fires += result.fires;
    events += result.events;
    if (result.mismatch && mismatches.length < 10) mismatches.push(result.mismatch);
  }
  assert.deepEqual(mismatches, []);
  return { fires, events };
}

const walls = (events: readonly DstEvent[]) => events.map((event) => `${event.wall} ${event.change} ${event.applied}`);

describe('fireRuns: the fires and DST events of scheduleFires, as runs', () => {
  it('every DST oracle expression, in 8 zones, under every policy, in windows on and around each transition', () => {
    function* cases(): Generator<[ScheduleDef, number, number, number?]> {
      for (const zone of zones) {
        for (const dst of oraclePolicies) {
          for (const cron of oracleExpressions) {
            const schedule: ScheduleDef = { cron, timezone: zone, dst: { ...dst } };
            for (const t of transitions(zone))
              for (const [from, to] of aroundTransition) yield [schedule, t + from, t + to];
          }
        }
      }
    }
    const { fires, events } = compareAll(cases());
    console.log(`fireRuns around transitions: ${fires} fires, ${events} DST events compared`);
    assert.ok(fires > 600_000, String(fires));
    assert.ok(events > 4000, String(events));
  });

  it('every DST oracle expression in 8 zones over a whole year', () => {
    function* cases(): Generator<[ScheduleDef, number, number]> {
      for (const zone of zones)
        for (const cron of oracleExpressions) yield [{ cron, timezone: zone }, YEAR_FROM, YEAR_TO];
    }
    const { fires, events } = compareAll(cases());
    console.log(`fireRuns over 2027: ${fires} fires, ${events} DST events compared`);
    assert.ok(fires > 600_000, String(fires));
    assert.ok(events > 100, String(events));
  });

  it('several expressions and intervals, merged without repeats, their events in scheduleFires order', () => {
    const crons = [
      ['0 2 * * 0', '30 2 * * 0'],
      ['30 2 * * 0', '0 2 * * 0'],
      ['30 2 * * *', '0 3 * * *', '15 1-23/2 * * *'],
      ['@every 90m', '30 2 * * *'],
      ['0 2 29 3 *', '0 3 * * 0#1'],
      ['0 0 1 1 *'],
      // Yearly on a transition day: the walk past one transition's stretch reaches the next one.
      ['30 2 31 10 *'],
      ['30 2 31 10 *', '30 1 7 11 *', '30 2 3 10 *'],
    ];
    function* cases(): Generator<[ScheduleDef, number, number]> {
      for (const zone of zones) {
        for (const cron of crons) {
          for (const schedule of [
            { cron, timezone: zone },
            { cron, timezone: zone, every: '7h', offset: '13m' },
          ]) {
            yield [schedule, YEAR_FROM, YEAR_TO];
            for (const t of transitions(zone)) {
              yield [schedule, t - 10 * DAY, t + 10 * DAY];
              yield [schedule, t - 3 * DAY, t + HOUR];
            }
          }
        }
      }
    }
    compareAll(cases());
    // Each rule's events follow its own previous fire: the 02:00 rule's come first although it is listed second.
    const reversed = fireRuns({ cron: ['30 2 * * 0', '0 2 * * 0'], timezone: 'Europe/Berlin' }, YEAR_FROM, YEAR_TO);
    assert.deepEqual(walls(reversed.dstEvents), [
      '2027-03-28T02:00:00 gap shift',
      '2027-03-28T02:30:00 gap shift',
      '2027-10-31T02:00:00 repeat once',
      '2027-10-31T02:30:00 repeat once',
    ]);
    // Both shifted to the gap's end: one fire there.
    assert.equal(reversed.fires, 52 * 2 - 1);
  });

  it('intervals by arithmetic: `every` with an offset and `@every` are one run each', () => {
    const every = fireRuns({ every: '15m', offset: '7s' }, YEAR_FROM, YEAR_TO);
    assert.deepEqual(every.runs, [{ start: YEAR_FROM + 7000, delta: 900_000, count: 35_040 }]);
    const macro = fireRuns({ cron: '@every 90m' }, YEAR_FROM, YEAR_TO);
    assert.deepEqual(macro.runs, [{ start: YEAR_FROM, delta: 5_400_000, count: 5840 }]);
    compareAll([
      [{ every: '15m', offset: '7s' }, YEAR_FROM, YEAR_TO],
      [{ every: '15m', offset: '7s' }, YEAR_FROM + 123, YEAR_TO - 77, 1000],
      [{ every: '1500ms' }, YEAR_FROM + 123, YEAR_FROM + DAY],
      [{ every: '15m', cron: '@every 10m' }, YEAR_FROM, YEAR_TO],
      [{ every: '1h', offset: '30m', timezone: 'Europe/Berlin' }, YEAR_FROM, YEAR_TO],
    ]);
  });

  it('concrete counts over 2027', () => {
    const hourly = fireRuns({ cron: '7 * * * *' }, YEAR_FROM, YEAR_TO);
    assert.deepEqual(hourly.runs, [{ start: YEAR_FROM + 7 * 60_000, delta: HOUR, count: 8760 }]);
    // Berlin 02:30: shifted to the gap's end on 28 March, once on 31 October; four runs (01:30Z, the shift,
    // 00:30Z, 01:30Z again).
    const berlin = fireRuns({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, YEAR_FROM, YEAR_TO);
    assert.equal(berlin.fires, 365);
    assert.equal(berlin.runs.length, 4);
    assert.deepEqual(walls(berlin.dstEvents), ['2027-03-28T02:30:00 gap shift', '2027-10-31T02:30:00 repeat once']);
    // Skipped in the gap, twice in the repeated hour.
    const skipTwice = { cron: '30 2 * * *', timezone: 'Europe/Berlin', dst: { skipped: 'skip', repeated: 'twice' } };
    assert.equal(fireRuns(skipTwice as ScheduleDef, YEAR_FROM, YEAR_TO).fires, 365);
    // Lord Howe's half-hour change: 02:00 does not exist on 3 October; the repeated half hour holds no :00.
    assert.equal(fireRuns({ cron: '0 * * * *', timezone: 'Australia/Lord_Howe' }, YEAR_FROM, YEAR_TO).fires, 8759);
    // Kolkata: a fixed offset, one run; 02:30 IST on 1 January is still 2026 in UTC.
    const kolkata = fireRuns({ cron: '30 2 * * *', timezone: 'Asia/Kolkata' }, YEAR_FROM, YEAR_TO);
    assert.deepEqual(kolkata.runs, [{ start: Date.parse('2027-01-01T21:00:00Z'), delta: DAY, count: 365 }]);
    assert.deepEqual(kolkata.dstEvents, []);
    // Weekdays in New York: 261 in 2027.
    assert.equal(fireRuns({ cron: '0 9 * * 1-5', timezone: 'America/New_York' }, YEAR_FROM, YEAR_TO).fires, 261);
  });

  it('within startAt and endAt, with the events scheduleFires reports past endAt', () => {
    function* cases(): Generator<[ScheduleDef, number, number]> {
      for (const zone of zones) {
        for (const cron of ['30 2 * * *', '*/20 2 * * *', '0 * * * *', '0 2 29 3 *', '30 2 * * 0', '@every 90m']) {
          for (const dst of oraclePolicies) {
            const schedule: ScheduleDef = { cron, timezone: zone, dst: { ...dst } };
            for (const t of transitions(zone)) {
              const window = [t - 10 * DAY, t + 10 * DAY] as const;
              yield [{ ...schedule, startAt: iso(t - HOUR), endAt: iso(t + 30 * 60_000) }, ...window];
              yield [{ ...schedule, endAt: iso(t - 2 * DAY) }, ...window];
              yield [{ ...schedule, endAt: iso(t - 20 * DAY) }, ...window];
              yield [{ ...schedule, startAt: iso(t + HOUR) }, ...window];
              yield [{ ...schedule, startAt: iso(t + 20 * DAY) }, ...window];
              yield [{ ...schedule, startAt: iso(t - 5 * DAY), endAt: iso(t + 5 * DAY) }, YEAR_FROM, YEAR_TO];
            }
          }
        }
      }
    }
    compareAll(cases());
    // After endAt the walk goes on to the next fire: a yearly rule reports the gap it passes on the way.
    const yearly = { cron: '30 2 28 3 *', timezone: 'Europe/Berlin', endAt: '2027-03-01T00:00:00Z' };
    assert.deepEqual(fireRuns(yearly, YEAR_FROM, YEAR_TO), {
      runs: [],
      fires: 0,
      dstEvents: scheduleFires(yearly, YEAR_FROM, YEAR_TO).dstEvents,
    });
    assert.equal(fireRuns(yearly, YEAR_FROM, YEAR_TO).dstEvents.length, 1);
  });

  it('stops after `limit` fires, with the events not after the last of them', () => {
    function* cases(): Generator<[ScheduleDef, number, number, number]> {
      for (const zone of zones) {
        for (const cron of ['30 2 * * *', '*/15 * * * *', '0 2 * * 0', ['0 2 * * 0', '30 2 * * *']]) {
          for (const t of transitions(zone)) {
            for (const limit of [0, 1, 7, 10, 300]) yield [{ cron, timezone: zone }, t - 10 * DAY, t + 10 * DAY, limit];
          }
        }
      }
    }
    compareAll(cases());
    const berlin = { cron: '30 2 * * *', timezone: 'Europe/Berlin' };
    const limited = fireRuns(berlin, YEAR_FROM, YEAR_TO, 100);
    assert.equal(limited.fires, 100);
    assert.equal(expand(limited.runs).at(-1), Date.parse('2027-04-10T00:30:00Z'));
    assert.deepEqual(walls(limited.dstEvents), ['2027-03-28T02:30:00 gap shift']);
    assert.deepEqual(fireRuns(berlin, YEAR_FROM, YEAR_TO, 0), { runs: [], fires: 0, dstEvents: [] });
  });
});

describe('RunBuilder', () => {
  it('run-length encodes greedily, drops repeats, takes a progression at once and stops at its limit', () => {
    const builder = new RunBuilder(12);
    for (const at of [10, 20, 30, 30, 45, 60]) builder.push(at);
    builder.pushProgression(75, 15, 5);
    builder.pushProgression(200, 100, 10);
    assert.deepEqual(builder.runs, [
      { start: 10, delta: 10, count: 3 },
      { start: 45, delta: 15, count: 7 },
      { start: 200, delta: 100, count: 2 },
    ]);
    assert.equal(builder.fires, 12);
    assert.equal(builder.full, true);
  });
});
