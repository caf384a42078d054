import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { TaskChange, TaskChangeBatch, TaskChangeBatchResult } from '../../src/tasks/changes.js';
import { TaskExistsError } from '../../src/tasks/errors.js';
import { BATCH_LIMITS, TaskService } from '../../src/tasks/service.js';
import type { TaskStore } from '../../src/tasks/store.js';

interface Started {
  batch: TaskChangeBatch;
  attributes: { key: { name: string }; value: unknown }[];
}

/** A service over a fake client whose `taskChange` executions succeed (or fail the ids in `taken`). */
function fakeService(taken: ReadonlySet<string> = new Set()) {
  const started: Started[] = [];
  const client = {
    workflow: {
      execute: async (
        _type: string,
        options: { args: [TaskChangeBatch]; typedSearchAttributes: Started['attributes'] },
      ): Promise<TaskChangeBatchResult> => {
        const [batch] = options.args;
        started.push({ batch, attributes: options.typedSearchAttributes });
        await new Promise((resolve) => setTimeout(resolve, 5));
        return {
          outcomes: batch.changes.map((change) =>
            taken.has(change.taskId)
              ? {
                  taskId: change.taskId,
                  ok: false,
                  failure: { message: 'taken', type: 'TaskExistsError', details: [{ taskId: change.taskId }] },
                }
              : { taskId: change.taskId, ok: true, result: { appliedAt: '2026-01-01T00:00:00.000Z' } },
          ),
        };
      },
    },
  } as unknown as Client;
  const service = new TaskService(client, { taskQueue: 'q' } as TaskStore);
  return { service, started };
}

const pause = (taskId: string, actor = 'alice'): TaskChange => ({ action: 'pause', taskId, actor, source: 'api' });

describe('group commit of task changes', () => {
  it('changes made at once share batches within the limits: 100 changes, 1800 bytes of ids', async () => {
    const { service, started } = fakeService();
    const ids = Array.from({ length: 250 }, (_, i) => `task-with-a-long-id-${String(i).padStart(4, '0')}`);
    await Promise.all(ids.map((id) => service.change(pause(id))));
    const sizes = started.map(({ batch }) => batch.changes.length);
    assert.equal(
      sizes.reduce((a, b) => a + b, 0),
      250,
    );
    for (const { batch, attributes } of started) {
      const idBytes = batch.changes.reduce((sum, change) => sum + change.taskId.length + 3, 0);
      assert.ok(batch.changes.length <= BATCH_LIMITS.changes);
      assert.ok(idBytes <= BATCH_LIMITS.idBytes, `${idBytes} bytes of ids`);
      const listed = attributes.find((a) => a.key.name === 'SurecronTaskIds')?.value;
      assert.deepEqual(
        listed,
        batch.changes.map((change) => change.taskId),
      );
    }
    // 24-character ids count 27 bytes each (quotes, comma, slack): 66 fit in 1800 bytes.
    assert.deepEqual(sizes, [66, 66, 66, 52]);
  });

  it('keeps actors and actions apart, and two changes of one task in different batches', async () => {
    const { service, started } = fakeService();
    await Promise.all([
      service.change(pause('a')),
      service.change(pause('a')),
      service.change(pause('b', 'bob')),
      service.change({ action: 'resume', taskId: 'c', actor: 'alice', source: 'api' }),
    ]);
    const batches = started.map(({ batch }) => batch.changes.map((c) => `${c.actor}:${c.action}:${c.taskId}`));
    assert.deepEqual(batches.sort(), [['alice:pause:a'], ['alice:pause:a'], ['alice:resume:c'], ['bob:pause:b']]);
  });

  it("a failed change rejects with its own domain error; the batch's others resolve", async () => {
    const { service, started } = fakeService(new Set(['x2']));
    const outcomes = await Promise.allSettled(['x1', 'x2', 'x3'].map((id) => service.change(pause(id))));
    assert.equal(started.length, 1);
    assert.equal(outcomes[0]?.status, 'fulfilled');
    assert.equal(outcomes[2]?.status, 'fulfilled');
    const failed = outcomes[1] as PromiseRejectedResult;
    assert.ok(failed.reason instanceof TaskExistsError);
    assert.equal(failed.reason.taskId, 'x2');
  });
});
