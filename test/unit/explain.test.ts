/**
 * The explain core on hand-made facts: the DST verdict (its real-server test belongs with the DST policy walk), and
 * the precedence of the other verdicts where no server is needed to tell them apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyInstant, droppedInstants, explainInstant, type ExplainFacts } from '../../src/runs/explain.js';
import type { AuditEntry } from '../../src/tasks/audit.js';
import type { DstEvent, scheduleFires } from '../../src/tasks/fires.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';

const NY = 'America/New_York';
const spec = taskSpecSchema.parse({
  id: 'nightly',
  schedule: { cron: '30 2 * * *', timezone: NY, dst: { skipped: 'skip', repeated: 'once' } },
  handler: { type: 'function', name: 'heartbeat' },
});
const created: AuditEntry = {
  at: '2027-01-01T00:00:00.000Z',
  actor: 'alice',
  action: 'create',
  taskId: 'nightly',
  after: spec,
};

/** 2027-03-14 02:30 does not exist in New York (02:00 EST → 03:00 EDT at 07:00Z); the policy skipped it. */
const gapEvent: DstEvent = {
  wall: '2027-03-14T02:30:00',
  change: 'gap',
  applied: 'skip',
  firedAt: [],
  at: '2027-03-14T07:00:00Z',
};
/** 2027-11-07 01:30 exists twice (05:30Z EDT, 06:30Z EST); under `once` it fired at the first only. */
const repeatEvent: DstEvent = {
  wall: '2027-11-07T01:30:00',
  change: 'repeat',
  applied: 'once',
  firedAt: ['2027-11-07T05:30:00Z'],
  at: '2027-11-07T05:30:00Z',
};

/** A walk with a few daily fires and the two events, whatever the schedule says. */
const handMade: typeof scheduleFires = (_schedule, fromMs, toMs) => {
  const fires = ['2027-03-13T07:30:00Z', '2027-03-15T06:30:00Z', '2027-11-06T05:30:00Z', '2027-11-07T05:30:00Z']
    .map((time) => Date.parse(time))
    .filter((at) => at >= fromMs && at < toMs)
    .map((atMs) => ({ atMs }));
  const dstEvents = [gapEvent, repeatEvent].filter((e) => Date.parse(e.at) >= fromMs && Date.parse(e.at) < toMs);
  return { fires, dstEvents };
};

function facts(at: string, extra: Partial<ExplainFacts> = {}): ExplainFacts {
  return {
    taskId: 'nightly',
    at: Date.parse(at),
    now: Date.parse('2028-01-01T00:00:00Z'),
    entries: [created],
    runs: [],
    going: [],
    schedule: { exists: true, paused: false, lastWrittenAt: created.at, specChanged: false, missedCatchupWindow: 0 },
    starts: {},
    runStarts: {},
    watchdog: [],
    walk: handMade,
    ...extra,
  };
}

describe('explain core', () => {
  it('dst_policy: the gap a skip policy skipped, at its end or the wall time read with either offset', () => {
    assert.deepEqual(
      droppedInstants(gapEvent, NY)
        .map((t) => new Date(t).toISOString())
        .sort(),
      ['2027-03-14T06:30:00.000Z', '2027-03-14T07:00:00.000Z', '2027-03-14T07:30:00.000Z'],
    );
    for (const at of ['2027-03-14T07:00:00Z', '2027-03-14T07:30:00Z']) {
      const explained = explainInstant(facts(at));
      assert.equal(explained.verdict, 'dst_policy', at);
      assert.deepEqual(explained.evidence.event, gapEvent);
      assert.deepEqual(explained.evidence.policy, { skipped: 'skip', repeated: 'once' });
      assert.equal(explained.evidence.timezone, NY);
    }
  });

  it("dst_policy: the second copy of a repeated wall time under 'once'; its first copy is a fire", () => {
    const second = explainInstant(facts('2027-11-07T06:30:00Z'));
    assert.equal(second.verdict, 'dst_policy');
    assert.deepEqual(second.evidence.event, repeatEvent);
    assert.match(second.summary, /second copy/);
    const first = classifyInstant(spec.schedule, Date.parse('2027-11-07T05:30:00Z'), handMade);
    assert.equal(first.kind, 'fire');
  });

  it('dst_policy: a run the server started for a second copy, which runTask ended at once', () => {
    const nominalTime = '2027-11-07T06:30:00Z';
    const run = {
      workflowId: `nightly-${nominalTime}`,
      runId: 'r',
      nominalTime,
      startedAt: '2026-12-02T10:00:00.000Z',
      closedAt: '2026-12-02T10:00:00.100Z',
      status: 'dst_skipped' as const,
      attempts: 0,
      trigger: 'schedule' as const,
    };
    const explained = explainInstant(facts(nominalTime, { runs: [run] }));
    assert.equal(explained.verdict, 'dst_policy');
    assert.deepEqual(explained.evidence.event, repeatEvent);
    assert.equal((explained.evidence.run as { workflowId: string }).workflowId, run.workflowId);
    assert.match(explained.summary, /ended at once without running the handler: the second copy/);
  });

  it('a shifted or twice-fired event is no dst_policy verdict', () => {
    const twice: DstEvent = {
      ...repeatEvent,
      applied: 'twice',
      firedAt: ['2027-11-07T05:30:00Z', '2027-11-07T06:30:00Z'],
    };
    assert.deepEqual(droppedInstants(twice, NY), []);
    const shifted: DstEvent = { ...gapEvent, applied: 'shift', firedAt: ['2027-03-14T07:00:00Z'] };
    assert.deepEqual(droppedInstants(shifted, NY), []);
  });

  it('not_a_fire_time names the neighbours and the spec version', () => {
    const explained = explainInstant(facts('2027-03-14T12:00:00Z'));
    assert.equal(explained.verdict, 'not_a_fire_time');
    assert.equal(explained.evidence.previous, '2027-03-13T07:30:00Z');
    assert.equal(explained.evidence.next, '2027-03-15T06:30:00Z');
    assert.deepEqual(explained.evidence.specVersion, {
      version: 1,
      setBy: { at: created.at, actor: 'alice', action: 'create' },
      schedule: spec.schedule,
      overlap: 'skip',
    });
  });

  it('an instant before the task existed is no fire time', () => {
    const explained = explainInstant(facts('2026-06-01T00:00:00Z'));
    assert.equal(explained.verdict, 'not_a_fire_time');
    assert.equal(explained.evidence.existed, false);
  });

  it('a fire with no run and no outage, overlap or drift is missed; with a late catch-up start beyond the window it is outside_catchup_window', () => {
    const at = '2027-03-15T06:30:00Z';
    assert.equal(explainInstant(facts(at)).verdict, 'missed');
    const outage = explainInstant(
      facts(at, {
        starts: {
          before: { workflowId: 'a', scheduledAt: '2027-03-15T06:00:00.000Z', startedAt: '2027-03-15T06:00:00.050Z' },
          after: { workflowId: 'b', scheduledAt: '2027-03-15T07:00:00.000Z', startedAt: '2027-03-15T08:00:00.000Z' },
        },
      }),
    );
    assert.equal(outage.verdict, 'outside_catchup_window');
    assert.deepEqual(outage.evidence.outage, { from: '2027-03-15T06:00:00.050Z', to: '2027-03-15T08:00:00.000Z' });
    // Back within the 1 h default window: the scheduler would have run it, so that is no explanation.
    const soon = explainInstant(
      facts(at, {
        starts: {
          after: { workflowId: 'b', scheduledAt: '2027-03-15T06:30:00.000Z', startedAt: '2027-03-15T06:50:00.000Z' },
        },
      }),
    );
    assert.equal(soon.verdict, 'missed');
  });

  it('the schedule changed behind surecron before the fire is schedule_drift; a surecron pause wins over it', () => {
    const at = '2027-03-15T06:30:00Z';
    const drifted = { exists: true, paused: false, lastWrittenAt: '2027-03-14T00:00:00.000Z', specChanged: true };
    const explained = explainInstant(facts(at, { schedule: drifted }));
    assert.equal(explained.verdict, 'schedule_drift');
    assert.equal(explained.evidence.reason, 'changed');
    const pause: AuditEntry = {
      at: '2027-03-15T00:00:00.000Z',
      actor: 'bob',
      action: 'pause',
      taskId: 'nightly',
      after: { paused: true, note: 'holiday' },
    };
    const paused = explainInstant(facts(at, { schedule: drifted, entries: [created, pause] }));
    assert.equal(paused.verdict, 'paused');
    assert.deepEqual(paused.evidence.pause, { by: 'bob', at: pause.at, action: 'pause', note: 'holiday' });
  });
});
