import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildLedger, expectedDrops, expectedFires, specTimeline } from '../../src/runs/ledger.js';
import type { Run } from '../../src/runs/runs.js';
import type { AuditEntry } from '../../src/tasks/audit.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';

const spec = (cron: string, overlap = 'skip') =>
  taskSpecSchema.parse({ id: 't', schedule: { cron }, handler: { type: 'function', name: 'h' }, overlap });
const entry = (at: string, action: AuditEntry['action'], after?: unknown, before?: unknown): AuditEntry => ({
  at,
  actor: 'test',
  action,
  taskId: 't',
  ...(after !== undefined ? { after } : {}),
  ...(before !== undefined ? { before } : {}),
});
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
const t = (s: string) => Date.parse(`2026-11-22T10:00:${s}Z`);
/** A run of task `t`: running without `closedAt`, succeeded with it. */
const run = (nominal: number, startedAt: number, closedAt?: number): Run => ({
  workflowId: `t-${iso(nominal)}`,
  runId: 'r',
  nominalTime: iso(nominal),
  startedAt: new Date(startedAt).toISOString(),
  ...(closedAt !== undefined ? { closedAt: new Date(closedAt).toISOString() } : {}),
  status: closedAt === undefined ? 'running' : 'succeeded',
  attempts: 1,
  trigger: 'schedule',
});

describe('ledger: specs and pauses over time', () => {
  const every2 = spec('*/2 * * * * *');
  const every3 = spec('*/3 * * * * *');
  const entries = [
    entry('2026-11-22T10:00:00.500Z', 'create', every2),
    entry('2026-11-22T10:00:06.000Z', 'pause', { paused: true, note: 'x' }),
    entry('2026-11-22T10:00:10.000Z', 'resume', { paused: false, note: 'y' }),
    entry('2026-11-22T10:00:14.000Z', 'update', every3, every2),
    entry('2026-11-22T10:00:20.000Z', 'delete', undefined, every3),
  ];
  const fires = expectedFires(specTimeline(entries, t('30')), t('00'), t('30'));

  it('a fire at the very instant of a change follows the spec and state before it, as the scheduler does', () => {
    assert.deepEqual(
      fires.map((fire) => [iso(fire.at), fire.paused, fire.overlap]),
      [
        ['2026-11-22T10:00:02Z', false, 'skip'],
        ['2026-11-22T10:00:04Z', false, 'skip'],
        ['2026-11-22T10:00:06Z', false, 'skip'], // the pause took effect at 06.000: the 06 fire was still taken
        ['2026-11-22T10:00:08Z', true, 'skip'],
        ['2026-11-22T10:00:10Z', true, 'skip'], // resumed at 10.000: too late for the 10 fire
        ['2026-11-22T10:00:12Z', false, 'skip'],
        ['2026-11-22T10:00:14Z', false, 'skip'], // updated at 14.000: the old */2 spec still owns 14
        ['2026-11-22T10:00:15Z', false, 'skip'],
        ['2026-11-22T10:00:18Z', false, 'skip'],
      ],
    );
  });

  it('the window itself is half-open [from, to)', () => {
    assert.deepEqual(
      expectedFires(specTimeline(entries, t('30')), t('04'), t('12')).map((fire) => iso(fire.at)),
      ['2026-11-22T10:00:04Z', '2026-11-22T10:00:06Z', '2026-11-22T10:00:08Z', '2026-11-22T10:00:10Z'],
    );
  });

  it('matches runs, counts skips under overlap skip, pending within the grace and missed after it', () => {
    // 02 ran long (skips 04), 06 ran twice, 12 and 14 have no run, 15 ran 15–17, 18 is
    // younger than the grace.
    const runs = [run(t('02'), t('02'), t('05')), run(t('06'), t('06'), t('07')), run(t('06'), t('06'), t('07'))];
    runs.push(run(t('15'), t('15'), t('17')));
    const { items, summary } = buildLedger(fires, runs, t('32'));
    assert.deepEqual(
      items.map((item) => [item.nominalTime.slice(17, 19), item.outcome]),
      [
        ['02', 'succeeded'],
        ['04', 'skipped_overlap'],
        ['06', 'succeeded'],
        ['08', 'paused'],
        ['10', 'paused'],
        ['12', 'missed'],
        ['14', 'missed'],
        ['15', 'succeeded'],
        ['18', 'pending'],
      ],
    );
    assert.deepEqual(summary, {
      expected: 7,
      succeeded: 3,
      failed: 0,
      running: 0,
      skipped: 1,
      missed: 2,
      duplicates: 1,
      dstSkipped: 0,
    });
  });
});

describe('ledger: buffer_one', () => {
  it('a fire due as the buffered run starts is skipped behind it, not missed', () => {
    // 02 runs 02–08; 04 is buffered and starts at 08.007, just after 08 was due; 06 and 08 are dropped.
    const fires = expectedFires(
      specTimeline([entry('2026-11-22T10:00:00.500Z', 'create', spec('*/2 * * * * *', 'buffer_one'))], t('30')),
      t('00'),
      t('10'),
    );
    const runs = [run(t('02'), t('02.1'), t('07.99')), run(t('04'), t('08.007'))];
    const { items } = buildLedger(fires, runs, t('40'));
    assert.deepEqual(
      items.map((item) => [item.nominalTime.slice(17, 19), item.outcome]),
      [
        ['02', 'succeeded'],
        ['04', 'running'],
        ['06', 'skipped_overlap'],
        ['08', 'skipped_overlap'],
      ],
    );
  });
});

describe('ledger: fires a DST policy dropped', () => {
  // New York, 01:30 and 02:30 under skip/once: 2027-03-14 02:30 does not exist (skipped, the server never fires
  // it); 2027-11-07 01:30 exists twice, the server fires both copies and runTask ends the second (06:30Z) at once.
  const nightly = taskSpecSchema.parse({
    id: 't',
    schedule: { cron: ['30 1 * * *', '30 2 * * *'], timezone: 'America/New_York', dst: { skipped: 'skip' } },
    handler: { type: 'function', name: 'h' },
  });
  const segments = specTimeline([entry('2027-01-01T00:00:00.000Z', 'create', nightly)], Date.parse('2028-01-01'));
  const run = (nominalTime: string, status: Run['status']): Run => ({
    workflowId: `t-${nominalTime}`,
    runId: 'r',
    nominalTime,
    startedAt: '2026-12-02T10:00:00.000Z',
    closedAt: '2026-12-02T10:00:01.000Z',
    status,
    attempts: status === 'dst_skipped' ? 0 : 1,
    trigger: 'schedule',
  });

  it('lists each as dst_skipped, with the run the server started for it, and never as missed', () => {
    const window = { from: Date.parse('2027-03-14T00:00:00Z'), to: Date.parse('2027-11-08T00:00:00Z') };
    const drops = expectedDrops(segments, window.from, window.to);
    assert.deepEqual(
      drops.map((drop) => [iso(drop.at), drop.event.wall, drop.event.change, drop.event.applied]),
      [
        ['2027-03-14T07:00:00Z', '2027-03-14T02:30:00', 'gap', 'skip'],
        ['2027-11-07T06:30:00Z', '2027-11-07T01:30:00', 'repeat', 'once'],
      ],
    );
    const fires = expectedFires(segments, Date.parse('2027-11-07T00:00:00Z'), window.to);
    const runs = [
      run('2027-11-07T05:30:00Z', 'succeeded'),
      run('2027-11-07T06:30:00Z', 'dst_skipped'),
      run('2027-11-07T07:30:00Z', 'succeeded'),
      // A skip outside the window (a run started now for a nominal time in 2030) is not this window's.
      run('2030-11-03T06:30:00Z', 'dst_skipped'),
    ];
    const { items, summary } = buildLedger(fires, runs, Date.parse('2028-01-01'), { drops, window });
    assert.deepEqual(
      items.map((item) => [item.nominalTime, item.outcome, item.workflowId]),
      [
        ['2027-03-14T07:00:00Z', 'dst_skipped', undefined],
        ['2027-11-07T05:30:00Z', 'succeeded', 't-2027-11-07T05:30:00Z'],
        ['2027-11-07T06:30:00Z', 'dst_skipped', 't-2027-11-07T06:30:00Z'],
        ['2027-11-07T07:30:00Z', 'succeeded', 't-2027-11-07T07:30:00Z'],
      ],
    );
    assert.match(items[0]?.dst ?? '', /02:30:00 does not exist in America\/New_York.*skipped/);
    assert.match(items[2]?.dst ?? '', /occurs twice.*runs once/);
    assert.equal(summary.dstSkipped, 2);
    assert.equal(summary.expected, 2);
    assert.equal(summary.missed, 0);
  });
});
