import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { groupWorkflowId, nextWaiting, type GroupMember } from '../../src/contract/group.js';
import { runGroups } from '../../src/tasks/schedule.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';

const member = (taskId: string, nominalTime: string, askedAt = 0): GroupMember => ({
  workflowId: `${taskId}-${nominalTime}`,
  taskId,
  nominalTime,
  askedAt,
});

/** Grants every waiting member in turn, as the group does, and returns the order. */
function grantOrder(waiting: GroupMember[], lastGrant: Record<string, number> = {}): string[] {
  const queue = [...waiting];
  const order: string[] = [];
  let granted = Math.max(0, ...Object.values(lastGrant));
  while (queue.length) {
    const [next] = queue.splice(nextWaiting(queue, lastGrant), 1) as [GroupMember];
    granted += 1;
    lastGrant[next.taskId] = granted;
    order.push(`${next.taskId}@${next.nominalTime}`);
  }
  return order;
}

describe('task group fairness', () => {
  it('takes turns between tasks: a task with 3 queued fires does not go before one with 1', () => {
    const order = grantOrder([
      member('a', '2026-01-01T00:00:00Z'),
      member('a', '2026-01-01T00:00:01Z'),
      member('a', '2026-01-01T00:00:02Z'),
      member('b', '2026-01-01T00:00:02Z'),
      member('c', '2026-01-01T00:00:03Z'),
    ]);
    assert.deepEqual(order, [
      'a@2026-01-01T00:00:00Z',
      'b@2026-01-01T00:00:02Z',
      'c@2026-01-01T00:00:03Z',
      'a@2026-01-01T00:00:01Z',
      'a@2026-01-01T00:00:02Z',
    ]);
  });

  it('within a task the oldest fire goes first, whatever order they asked in; the longest-unserved task leads', () => {
    const order = grantOrder(
      [member('a', '2026-01-01T00:00:05Z'), member('b', '2026-01-01T00:00:09Z'), member('a', '2026-01-01T00:00:01Z')],
      { a: 7, b: 3 },
    );
    assert.deepEqual(order, ['b@2026-01-01T00:00:09Z', 'a@2026-01-01T00:00:01Z', 'a@2026-01-01T00:00:05Z']);
  });

  it('names one workflow per kind and group', () => {
    assert.equal(groupWorkflowId('concurrency', 'erp'), 'surecron-group.concurrency.erp');
    assert.equal(groupWorkflowId('rate', 'erp'), 'surecron-group.rate.erp');
  });
});

describe('concurrency and rateLimit in a task spec', () => {
  const base = { id: 'g.task', schedule: { cron: '* * * * *' }, handler: { type: 'function', name: 'heartbeat' } };
  const issues = (extra: Record<string, unknown>) => {
    const parsed = taskSpecSchema.safeParse({ ...base, ...extra });
    return parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  };

  it('become the run input groups, a per-minute rate in per-second terms', () => {
    const spec = taskSpecSchema.parse({
      ...base,
      concurrency: { group: 'erp', limit: 3 },
      rateLimit: { group: 'erp-api', perMinute: 30 },
    });
    assert.deepEqual(runGroups(spec), [
      { group: 'erp', policy: { kind: 'concurrency', limit: 3 } },
      { group: 'erp-api', policy: { kind: 'rate', perSecond: 0.5 } },
    ]);
    assert.equal(runGroups(taskSpecSchema.parse(base)), undefined);
  });

  it('refuses bad values, each with its path', () => {
    assert.deepEqual(issues({ concurrency: { group: 'erp', limit: 0 } }).length, 1);
    assert.match(issues({ concurrency: { group: 'erp', limit: 0 } })[0] ?? '', /^concurrency\.limit: /);
    assert.match(issues({ concurrency: { group: 'erp', limit: 2.5 } })[0] ?? '', /^concurrency\.limit: /);
    assert.match(issues({ concurrency: { group: 'no spaces', limit: 2 } })[0] ?? '', /^concurrency\.group: /);
    assert.match(issues({ concurrency: { group: 'erp' } })[0] ?? '', /^concurrency\.limit: /);
    assert.match(issues({ concurrency: { group: 'erp', limit: 2, extra: 1 } })[0] ?? '', /^concurrency: /);
    assert.match(issues({ rateLimit: { group: 'erp', perSecond: 0 } })[0] ?? '', /^rateLimit\.perSecond: /);
    assert.match(
      issues({ rateLimit: { group: 'erp', perSecond: 1, perMinute: 60 } })[0] ?? '',
      /^rateLimit: give exactly one of perSecond and perMinute/,
    );
    assert.match(issues({ rateLimit: { group: 'erp' } })[0] ?? '', /^rateLimit: give exactly one/);
    assert.deepEqual(issues({ concurrency: { group: 'erp.db-1_a', limit: 10_000 } }), []);
  });
});
