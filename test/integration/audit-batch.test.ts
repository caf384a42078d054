import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { searchAttributeKeys } from '../../src/contract/search-attributes.js';
import { applyTasks } from '../../src/tasks/apply.js';
import { listAudit } from '../../src/tasks/audit.js';
import { TaskExistsError } from '../../src/tasks/errors.js';
import { taskLedger } from '../../src/runs/ledger.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema, type TaskSpec } from '../../src/tasks/spec.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { deleteSchedules, runTestWorker, type RunningWorker } from '../helpers/teardown.js';

const spec = (id: string, extra: Record<string, unknown> = {}): TaskSpec =>
  taskSpecSchema.parse({
    id,
    schedule: { cron: '0 0 1 1 *' },
    handler: { type: 'function', name: 'heartbeat' },
    paused: true,
    ...extra,
  });

/** Batch audit entries (group commit): one `taskChange` execution for many tasks, one trail entry per task. */
describe('batched audit entries', () => {
  let client: Client;
  let worker: RunningWorker;
  let taskQueue: string;
  let service: TaskService;
  const created: string[] = [];

  before(async () => {
    client = await testClient();
    taskQueue = uniqueId('tq-batch');
    worker = await runTestWorker({ taskQueue });
    service = new TaskService(client, testStore(client, taskQueue));
  });
  after(async () => {
    await deleteSchedules(client, created);
    await worker.stop();
    await client.connection.close();
  });

  const executions = async (query: string) => {
    const found = [];
    for await (const execution of client.workflow.list({
      query: `WorkflowType = 'taskChange' AND TaskQueue = '${taskQueue}' AND ${query}`,
    }))
      found.push(execution);
    return found;
  };

  it('an apply of 50 tasks is one audit execution listing all 50; each task has its own entry and time', async () => {
    const ids = Array.from({ length: 50 }, (_, i) => uniqueId(`batch-${i}`));
    created.push(...ids);
    const result = await applyTasks(
      service.writer('ci'),
      ids.map((id) => spec(id)),
      { source: 'code' },
    );
    assert.equal(result.created.length, 50);
    const batch = await waitFor(
      async () => {
        const found = await executions(`${searchAttributeKeys.taskIds.name} = '${ids[0]}'`);
        return found.length === 1 && found[0]?.status.name === 'COMPLETED' ? found : undefined;
      },
      15_000,
      'the batch execution in visibility',
    );
    const listed = batch[0]?.typedSearchAttributes.get(searchAttributeKeys.taskIds) ?? [];
    assert.deepEqual([...listed].sort(), [...ids].sort(), 'one execution lists every task it touched');
    assert.equal(batch[0]?.typedSearchAttributes.get(searchAttributeKeys.actor), 'ci');
    assert.equal(batch[0]?.typedSearchAttributes.get(searchAttributeKeys.action), 'apply');

    const store = testStore(client, taskQueue);
    for (const id of [0, 17, 49].map((i) => ids[i] ?? '')) {
      const { items } = await listAudit(client, { taskId: id, taskQueue });
      assert.equal(items.length, 1, `${id}: one entry`);
      const [entry] = items;
      const stored = await store.get(id);
      assert.equal(entry?.taskId, id);
      assert.equal(entry?.action, 'apply');
      assert.equal(entry?.actor, 'ci');
      // Its own write time: the server's creation time of its schedule.
      assert.equal(entry?.at, stored.description.info.createdAt.toISOString());
      assert.equal((entry?.after as TaskSpec).id, id);
    }
    // The whole trail of the deployment: 50 entries, each task once, times as many as there were writes.
    const all = await listAudit(client, { taskQueue, pageSize: 1000 });
    const mine = all.items.filter((entry) => ids.includes(entry.taskId));
    assert.equal(mine.length, 50);
    assert.equal(new Set(mine.map((entry) => entry.taskId)).size, 50);

    // The ledger of a task created in the batch starts at its own write time.
    const id = ids[5] as string;
    const createdAt = (await store.get(id)).description.info.createdAt;
    const ledger = await taskLedger(client, id, new Date(createdAt.getTime() - 60_000), new Date());
    assert.equal(ledger.summary.expected, 0);
    const [entry] = (await listAudit(client, { taskId: id, taskQueue })).items;
    assert.equal(entry?.at, createdAt.toISOString());
  });

  it('concurrent creates are all audited with their actor; a failing change in a batch changes nothing, the rest stand', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => uniqueId(`conc-${i}`));
    created.push(...ids);
    // One id is taken already: its create fails, alone, in whichever batch it lands.
    const taken = ids[7] as string;
    await service.change({ action: 'create', taskId: taken, actor: 'alice', source: 'api', spec: spec(taken) });
    const outcomes = await Promise.allSettled(
      ids.map((id) =>
        service.change({
          action: 'create',
          taskId: id,
          actor: id === ids[3] ? 'bob' : 'alice',
          source: 'api',
          spec: spec(id, { description: 'second' }),
        }),
      ),
    );
    outcomes.forEach((outcome, i) => {
      if (ids[i] === taken) {
        assert.equal(outcome.status, 'rejected');
        assert.ok(outcome.reason instanceof TaskExistsError, 'the domain error, rebuilt');
      } else
        assert.equal(outcome.status, 'fulfilled', `${ids[i]}: ${String((outcome as PromiseRejectedResult).reason)}`);
    });
    const store = testStore(client, taskQueue);
    // The failed create wrote nothing: the first spec stands, and its trail holds only the first create.
    assert.equal((await store.get(taken)).spec.description, undefined);
    const takenTrail = (await listAudit(client, { taskId: taken, taskQueue })).items;
    assert.equal(takenTrail.length, 1);
    for (const id of ids.filter((id) => id !== taken)) {
      const { items } = await waitFor(
        async () => {
          const page = await listAudit(client, { taskId: id, taskQueue });
          return page.items.length ? page : undefined;
        },
        15_000,
        `the entry of ${id}`,
      );
      assert.equal(items.length, 1, id);
      assert.equal(items[0]?.actor, id === ids[3] ? 'bob' : 'alice', id);
      assert.equal(items[0]?.action, 'create');
      assert.equal(items[0]?.at, (await store.get(id)).description.info.createdAt.toISOString());
      assert.equal((await store.get(id)).spec.description, 'second');
    }
    // Grouped: fewer executions than changes (alice's 18 creates share batches).
    const alice = await executions(`${searchAttributeKeys.actor.name} = 'alice'`);
    assert.ok(alice.length < 19, `alice's changes share executions (${alice.length})`);
  });
});
