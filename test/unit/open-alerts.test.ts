import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { OpenAlert, RaiseRequest } from '../../src/contract/alert.js';
import { clearQuiet, raise } from '../../src/workflows/alert-state.js';

const T0 = Date.parse('2027-03-01T12:00:00Z');
const request = (event: RaiseRequest['alert']['event'] = 'run_overdue', reAlertMs?: number): RaiseRequest => ({
  alert: { event, taskId: 'sync', severity: 'P1', at: new Date(T0).toISOString(), summary: 'still going', details: {} },
  tags: ['team=erp'],
  windowMs: 600_000,
  ...(reAlertMs !== undefined ? { reAlertMs } : {}),
});

describe('open alerts: raise, re-alert, acknowledge, clear', () => {
  it('a new condition is sent with a fresh id; raised again it is held back until its re-alert interval', () => {
    const open: Record<string, OpenAlert> = {};
    let ids = 0;
    const id = () => `id-${++ids}`;
    assert.deepEqual(raise(open, request('run_overdue', 60_000), T0, id), {
      decision: 'send',
      id: 'id-1',
      repeat: false,
      severity: 'P1',
    });
    assert.equal(raise(open, request(), T0 + 30_000, id).decision, 'deduplicated');
    assert.deepEqual(raise(open, request(), T0 + 60_000, id), {
      decision: 'send',
      id: 'id-1',
      repeat: true,
      severity: 'P1',
    });
    assert.equal(raise(open, request(), T0 + 90_000, id).decision, 'deduplicated', 'counted from the re-alert');
    const alert = open['sync/run_overdue'];
    assert.equal(alert?.sent, 2);
    assert.equal(alert?.lastSeenAt, new Date(T0 + 90_000).toISOString());
    assert.equal(alert?.quietMs, 600_000, 'quiet for the dedup window, the longer of the two');
    assert.equal(raise(open, request('run_late'), T0, id).id, 'id-2', 'another event is another alert');
  });

  it('without reAlertEvery the dedup window is the interval; acknowledged, it is never sent again while open', () => {
    const open: Record<string, OpenAlert> = {};
    raise(open, request(), T0, () => 'a');
    assert.equal(open['sync/run_overdue']?.reAlertMs, 600_000);
    open['sync/run_overdue'].acknowledged = { by: 'li', at: new Date(T0).toISOString() };
    assert.deepEqual(
      raise(open, request(), T0 + 3_600_000, () => 'b'),
      {
        decision: 'acknowledged',
        id: 'a',
        repeat: true,
        severity: 'P1',
      },
    );
  });

  it('a condition not raised again within its quiet period clears: its next raise is news, under a new id', () => {
    const open: Record<string, OpenAlert> = {};
    raise(open, request('run_overdue', 1000), T0, () => 'first');
    raise(open, request(), T0 + 500_000, () => 'unused');
    clearQuiet(open, T0 + 500_000 + 600_000);
    assert.ok(open['sync/run_overdue'], 'exactly the quiet period: still open');
    clearQuiet(open, T0 + 500_000 + 600_001);
    assert.equal(open['sync/run_overdue'], undefined);
    assert.deepEqual(
      raise(open, request(), T0 + 1_200_000, () => 'second'),
      {
        decision: 'send',
        id: 'second',
        repeat: false,
        severity: 'P1',
      },
    );
  });
});
