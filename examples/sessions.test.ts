import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { createTestEnvironment, runFire, testHandler } from 'surecron/testing';
import { createExampleHandlers } from './handlers.js';
import { exampleCode } from './index.js';
import { InMemorySessions, type SessionStore } from './sessions.js';
import { exampleTask } from './tasks.js';

const nominalTime = '2026-03-02T10:05:00Z';
const expiredAt = new Date('2026-03-02T10:04:00Z');
const liveUntil = new Date('2026-03-02T10:06:00Z');

/** A store with `expired` sessions that expired before the nominal time and `live` ones that expire after it. */
function storeWith(expired: number, live: number): InMemorySessions {
  const store = new InMemorySessions();
  for (let i = 0; i < expired; i += 1) store.add(`expired-${i}`, expiredAt);
  for (let i = 0; i < live; i += 1) store.add(`live-${i}`, liveUntil);
  return store;
}

/** A store whose first call fails, as a database restarting would. */
function flaky(store: SessionStore): SessionStore & { calls: number } {
  return {
    calls: 0,
    deleteExpired(now, limit) {
      this.calls += 1;
      return this.calls === 1 ? Promise.reject(new Error('database unavailable')) : store.deleteExpired(now, limit);
    },
  };
}

const cleanup = (sessions: SessionStore) => ({
  handlers: createExampleHandlers({ sessions }),
  name: 'cleanupExpiredSessions',
  taskId: 'sessions.cleanup',
  nominalTime,
});

describe('cleanupExpiredSessions, one attempt', () => {
  it('deletes what expired before the nominal time in batches of 100, heartbeating the running total', async () => {
    const store = storeWith(250, 3);
    const outcome = await testHandler(cleanup(store));
    assert.equal(outcome.status, 'succeeded');
    assert.deepEqual(outcome.result, { deleted: 250 });
    assert.deepEqual(outcome.heartbeats, [{ deleted: 100 }, { deleted: 200 }, { deleted: 250 }]);
    assert.deepEqual(store.ids(), ['live-0', 'live-1', 'live-2']);
  });

  it('a retried attempt resumes counting from the last heartbeat of the one before', async () => {
    const outcome = await testHandler({ ...cleanup(storeWith(50, 0)), attempt: 2, heartbeatDetails: { deleted: 200 } });
    assert.deepEqual(outcome.result, { deleted: 250 });
    assert.deepEqual(outcome.heartbeats, [{ deleted: 250 }]);
  });

  it('stops between two batches when cancelled', async () => {
    const store = storeWith(250, 0);
    const outcome = await testHandler({ ...cleanup(store), cancel: { afterHeartbeats: 1 } });
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.cancelled, true);
    assert.equal(outcome.error?.type, 'CancelledFailure');
    assert.deepEqual(outcome.heartbeats, [{ deleted: 100 }]);
    assert.equal(store.ids().length, 150, 'the second batch never ran');
  });

  it('a failing store fails the attempt, and the run may retry it', async () => {
    const outcome = await testHandler(cleanup(flaky(storeWith(1, 0))));
    assert.equal(outcome.status, 'failed');
    assert.deepEqual(outcome.error, { message: 'database unavailable', type: 'Error', nonRetryable: false });
    assert.deepEqual(outcome.heartbeats, []);
  });
});

describe('the sessions.cleanup task, one fire', () => {
  let env: TestWorkflowEnvironment;
  before(async () => {
    env = await createTestEnvironment();
  });
  after(async () => {
    await env.teardown();
  });

  it('retries a store failure and deletes what expired before its nominal time, not before now', async () => {
    const store = storeWith(2, 1);
    const sessions = flaky(store);
    const outcome = await runFire(env, exampleCode({ sessions }), {
      task: exampleTask('sessions.cleanup'),
      nominalTime,
    });
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.nominalTime, nominalTime);
    assert.equal(outcome.attempts, 2);
    assert.deepEqual(outcome.result, { deleted: 2 });
    assert.deepEqual(
      outcome.attemptsDetail.map(({ attempt, outcome: ended, error }) => ({ attempt, ended, error })),
      [
        { attempt: 1, ended: 'failed', error: 'database unavailable' },
        { attempt: 2, ended: 'succeeded', error: undefined },
      ],
    );
    assert.equal(sessions.calls, 2);
    assert.deepEqual(store.ids(), ['live-0'], 'a session expiring after 10:05 stays, whatever the wall clock says');
  });
});
