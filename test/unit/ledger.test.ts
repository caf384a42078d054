import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildLedger, expectedFires, specTimeline } from '../../src/runs/ledger.js';
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
    });
  });
});
