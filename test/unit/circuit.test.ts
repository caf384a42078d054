import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  admission,
  circuitAt,
  circuitWorkflowId,
  claimTrial,
  newCircuit,
  recordCall,
} from '../../src/contract/circuit.js';
import { runsLocally } from '../../src/tasks/execution.js';
import { runCircuit, summarizeSpec, toRunInput } from '../../src/tasks/schedule.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';

const policy = { failures: 5, window: 10, openForMs: 5000 };
const times = (n: number, failed: boolean): boolean[] => Array.from({ length: n }, () => failed);

/** Feeds calls (true = failed) to a breaker one per ms from `at`, returning the state and the transitions seen. */
function feed(outcomes: boolean[], state = newCircuit('erp', policy, 0), at = 1) {
  const transitions: string[] = [];
  for (const [i, failed] of outcomes.entries()) {
    const next = recordCall(state, { workflowId: `run-${i}`, failed, policy }, at + i);
    state = next.state;
    if (next.transition) transitions.push(`${next.transition}@${at + i}`);
  }
  return { state, transitions };
}

describe('circuit breaker state machine', () => {
  it('stays closed at 4 failures of the last 10, opens at the 5th (the oldest success sliding out)', () => {
    const four = feed([false, false, false, false, false, false, true, false, true, true, true]);
    assert.equal(four.state.phase, 'closed');
    assert.deepEqual(four.transitions, []);
    const five = feed([true], four.state, 100);
    assert.equal(five.state.phase, 'open');
    assert.deepEqual(five.transitions, ['opened@100']);
    assert.equal(five.state.halfOpenAt, 5100);
    assert.equal(five.state.opened, 1);
  });

  it('forgets failures that slid out of the window', () => {
    // 4 failures, then 10 successes push them out: 4 more failures are 4 of the last 10, not 8.
    const { state, transitions } = feed([...times(4, true), ...times(10, false), ...times(4, true)]);
    assert.equal(state.phase, 'closed');
    assert.deepEqual(transitions, []);
    assert.equal(state.recent.length, 10);
    assert.equal(state.calls, 18);
    assert.equal(state.failed, 8);
  });

  it('makes attempts wait while open, then lets exactly one trial through', () => {
    const { state: open } = feed(times(5, true));
    assert.deepEqual(admission(open, 4000), { kind: 'wait', retryAt: 5005 });
    assert.equal(circuitAt(open, 5005).phase, 'halfOpen');
    assert.deepEqual(admission(open, 5005), { kind: 'trial' });
    const first = claimTrial(open, { workflowId: 'a', ttlMs: 30_000 }, 5006);
    assert.equal(first.granted, true);
    const second = claimTrial(first.state, { workflowId: 'b', ttlMs: 30_000 }, 5007);
    assert.equal(second.granted, false);
    assert.deepEqual(admission(second.state, 5007), { kind: 'wait', retryAt: 6007 });
    // The holder asking again (its request retried) keeps it.
    assert.equal(claimTrial(second.state, { workflowId: 'a', ttlMs: 30_000 }, 5008).granted, true);
    // A holder that never reports loses it when its hold expires.
    assert.equal(claimTrial(second.state, { workflowId: 'b', ttlMs: 30_000 }, 35_006).granted, true);
  });

  it('closes on the trial succeeding and reopens, without a second alert, on it failing', () => {
    const { state: open } = feed(times(5, true));
    const claimed = claimTrial(open, { workflowId: 'trial', ttlMs: 30_000 }, 6000).state;
    // A call that was in flight when it opened does not decide anything.
    const straggler = recordCall(claimed, { workflowId: 'late', failed: false, policy }, 6100);
    assert.equal(straggler.state.phase, 'halfOpen');
    assert.equal(straggler.transition, undefined);
    const failed = recordCall(straggler.state, { workflowId: 'trial', failed: true, policy }, 6200);
    assert.equal(failed.state.phase, 'open');
    assert.equal(failed.transition, undefined, 'a failed trial keeps the incident open: no new circuit_open');
    assert.equal(failed.state.halfOpenAt, 11_200);
    assert.equal(failed.state.opened, 1);
    const again = claimTrial(failed.state, { workflowId: 'trial-2', ttlMs: 30_000 }, 11_200).state;
    const closed = recordCall(again, { workflowId: 'trial-2', failed: false, policy }, 11_300);
    assert.equal(closed.state.phase, 'closed');
    assert.equal(closed.transition, 'closed');
    assert.deepEqual(closed.state.recent, []);
    assert.equal(closed.state.trial, undefined);
    assert.deepEqual(admission(closed.state, 11_301), { kind: 'call' });
  });

  it('lets every call through when there is no breaker yet', () => {
    assert.deepEqual(admission(undefined, 0), { kind: 'call' });
  });

  it('adopts the most recent call’s policy', () => {
    const stricter = { failures: 1, window: 1, openForMs: 1000 };
    const { state, transition } = recordCall(
      newCircuit('erp', policy, 0),
      { workflowId: 'x', failed: true, policy: stricter },
      10,
    );
    assert.equal(transition, 'opened');
    assert.deepEqual(state.policy, stricter);
    assert.equal(state.halfOpenAt, 1010);
  });

  it('names one workflow per dependency key', () => {
    assert.equal(circuitWorkflowId('https://erp.example.com'), 'surecron-circuit.https://erp.example.com');
  });
});

describe('circuitBreaker in a task spec', () => {
  const base = { id: 'sync', schedule: { cron: '* * * * *' } };
  const http = { type: 'http', url: 'https://erp.example.com:8443/orders?since=1', method: 'POST' };

  it('defaults to the seed’s 10 calls, 50 %, 5 s, waiting, keyed by the http origin', () => {
    const spec = taskSpecSchema.parse({ ...base, handler: http, circuitBreaker: {} });
    assert.deepEqual(runCircuit(spec), {
      key: 'https://erp.example.com:8443',
      policy: { failures: 5, window: 10, openForMs: 5000 },
      onOpen: 'wait',
      alerts: { severity: 'P1' },
    });
    assert.equal(runsLocally(spec), false, 'an attempt asks its breaker from an activity, not a workflow task');
    assert.deepEqual(toRunInput(spec).circuit?.key, 'https://erp.example.com:8443');
    assert.match(summarizeSpec(spec), /circuit breaker https:\/\/erp\.example\.com:8443$/);
  });

  it('takes a function handler’s key and the task’s alert route', () => {
    const spec = taskSpecSchema.parse({
      ...base,
      handler: { type: 'function', name: 'syncOrders' },
      alerts: { severity: 'P0', channels: ['ops'] },
      circuitBreaker: { key: 'erp-db', failures: 2, window: 4, openFor: '30s', onOpen: 'fail' },
    });
    assert.deepEqual(runCircuit(spec), {
      key: 'erp-db',
      policy: { failures: 2, window: 4, openForMs: 30_000 },
      onOpen: 'fail',
      alerts: { severity: 'P0', channels: ['ops'] },
    });
  });

  it('refuses bad breakers with the field and the reason', () => {
    const issues = (circuitBreaker: unknown, handler: unknown = http, extra: object = {}) => {
      const parsed = taskSpecSchema.safeParse({ ...base, handler, circuitBreaker, ...extra });
      assert.equal(parsed.success, false);
      return parsed.error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ?? [];
    };
    assert.deepEqual(issues({ failures: 11 }), ['circuitBreaker.failures: failures must be at most window']);
    assert.match(issues({ failures: 0 })[0] ?? '', /^circuitBreaker\.failures: /);
    assert.match(issues({ openFor: '10ms' })[0] ?? '', /^circuitBreaker\.openFor: /);
    assert.match(issues({ onOpen: 'retry' })[0] ?? '', /^circuitBreaker\.onOpen: /);
    assert.match(issues({ key: 'has space' })[0] ?? '', /^circuitBreaker\.key: letters, digits/);
    assert.match(issues({ threshold: 3 })[0] ?? '', /^circuitBreaker: .*threshold/);
    assert.deepEqual(issues({}, { type: 'function', name: 'syncOrders' }), [
      'circuitBreaker.key: a function handler names the dependency its breaker guards',
    ]);
    assert.deepEqual(issues({ key: 'x' }, { type: 'workflow', name: 'syncOrders' }), [
      'circuitBreaker: a circuit breaker guards an http or function handler, not a workflow',
    ]);
    assert.deepEqual(issues({}, http, { execution: 'local' }), [
      'execution: a task with a circuit breaker runs its attempts as activities',
    ]);
  });
});
