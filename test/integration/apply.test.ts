import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import { applyTasks, type ApplyResult } from '../../src/tasks/apply.js';
import { MEMO_KEY, specHash, toRunInput, toScheduleOptions } from '../../src/tasks/schedule.js';
import { taskSpecSchema, type TaskSpec, type TaskSpecInput } from '../../src/tasks/spec.js';
import type { TaskStore } from '../../src/tasks/store.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { deleteSchedules } from '../helpers/teardown.js';

/** A task that never fires during a test: yearly, paused. */
function spec(id: string, extra: Partial<TaskSpecInput> = {}): TaskSpec {
  return taskSpecSchema.parse({
    id,
    description: `apply test ${id}`,
    schedule: { cron: '0 0 1 1 *' },
    handler: { type: 'function', name: 'heartbeat' },
    paused: true,
    ...extra,
  } satisfies TaskSpecInput);
}

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

describe('applyTasks against the real dev server', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  async function fingerprint(id: string): Promise<{ token: string; lastUpdatedAt?: number }> {
    const description = await client.schedule.getHandle(id).describe();
    return {
      token: Buffer.from(description.raw.conflictToken ?? new Uint8Array()).toString('hex'),
      lastUpdatedAt: description.info.lastUpdatedAt?.getTime(),
    };
  }

  /** The stored task is self-consistent: memo hash = hash of memo spec, and the action runs that spec. */
  async function assertConsistent(store: TaskStore, id: string): Promise<TaskSpec> {
    const stored = await store.get(id);
    assert.equal(stored.source, 'code');
    assert.equal(stored.specHash, specHash(stored.spec), `memo hash of ${id} matches its spec`);
    assert.equal(stored.description.action.type, 'startWorkflow');
    if (stored.description.action.type === 'startWorkflow') {
      assert.deepEqual(stored.description.action.args, [toRunInput(stored.spec)], `the action of ${id} runs its spec`);
    }
    return stored.spec;
  }

  it('creates N tasks; a second apply changes nothing; a changed spec is updated', async () => {
    const taskQueue = uniqueId('tq');
    const store = testStore(client, taskQueue);
    const ids = [1, 2, 3, 4].map((n) => uniqueId(`apply-${n}`));
    const specs = ids.map((id) => spec(id));
    try {
      const first = await applyTasks(store, specs);
      assert.deepEqual(first, { created: ids, updated: [], unchanged: [], deleted: [], skipped: [] });
      for (const [i, id] of ids.entries()) {
        const stored = await store.get(id);
        assert.deepEqual(stored.spec, specs[i]);
        assert.equal(stored.source, 'code');
        assert.equal(stored.specHash, specHash(specs[i]!));
      }
      const before = await Promise.all(ids.map(fingerprint));

      const second = await applyTasks(store, specs);
      assert.deepEqual(second, { created: [], updated: [], unchanged: ids, deleted: [], skipped: [] });
      assert.deepEqual(await Promise.all(ids.map(fingerprint)), before, 'nothing was written');

      // Same specs with keys in another order hash the same: still unchanged.
      const reordered = specs.map((s) => Object.fromEntries(Object.entries(s).reverse()) as TaskSpec);
      const third = await applyTasks(store, reordered);
      assert.deepEqual(third.unchanged, ids);

      const changed = spec(ids[1]!, {
        description: 'changed',
        schedule: { cron: '30 6 2 2 *', timezone: 'Europe/Berlin' },
        retry: { maxAttempts: 7 },
      });
      const fourth = await applyTasks(store, [specs[0]!, changed, specs[2]!, specs[3]!]);
      assert.deepEqual(fourth, {
        created: [],
        updated: [ids[1]],
        unchanged: [ids[0], ids[2], ids[3]],
        deleted: [],
        skipped: [],
      });
      const stored = await store.get(ids[1]!);
      assert.deepEqual(stored.spec, changed);
      assert.equal(stored.specHash, specHash(changed));
      assert.equal(stored.description.spec.timezone, 'Europe/Berlin');
      assert.equal(stored.description.state.paused, true);
      await assertConsistent(store, ids[1]!);
      const after = await Promise.all(ids.map(fingerprint));
      assert.notDeepEqual(after[1], before[1], 'the changed task was written');
      assert.deepEqual([after[0], after[2], after[3]], [before[0], before[2], before[3]], 'the others were not');
    } finally {
      await deleteSchedules(client, ids);
    }
  });

  it('prune deletes a code task no longer declared, never an api task nor a foreign schedule', async () => {
    const taskQueue = uniqueId('tq');
    const store = testStore(client, taskQueue);
    const kept = uniqueId('prune-kept');
    const gone = uniqueId('prune-gone');
    const api = uniqueId('prune-api');
    const foreign = uniqueId('prune-foreign');
    const all = [kept, gone, api, foreign];
    try {
      assert.deepEqual((await applyTasks(store, [spec(kept), spec(gone)])).created, [kept, gone]);
      await store.create(spec(api), 'api');
      await client.schedule.create({
        scheduleId: foreign,
        spec: { cronExpressions: ['0 0 1 1 *'] },
        action: { type: 'startWorkflow', workflowType: 'runTask', taskQueue, args: [] },
        state: { paused: true },
      });
      // The schedule list is eventually consistent: prune can only see what it lists.
      await waitFor(
        async () => {
          const listed = new Set<string>();
          for await (const s of client.schedule.list()) listed.add(s.scheduleId);
          return all.every((id) => listed.has(id)) ? true : undefined;
        },
        15_000,
        'the schedules to be listed',
      );

      const result = await applyTasks(store, [spec(kept)], { prune: true });
      assert.deepEqual(result.created, []);
      assert.deepEqual(result.unchanged, [kept]);
      assert.ok(result.deleted.includes(gone), `deleted ${JSON.stringify(result.deleted)}`);
      assert.ok(!result.deleted.includes(api), 'the api task is not pruned');
      assert.ok(!result.deleted.includes(foreign), 'the foreign schedule is not pruned');
      assert.ok(!result.deleted.includes(kept));

      await assert.rejects(client.schedule.getHandle(gone).describe(), ScheduleNotFoundError);
      assert.equal((await store.get(kept)).source, 'code');
      assert.equal((await store.get(api)).source, 'api');
      const foreignDescription = await client.schedule.getHandle(foreign).describe();
      assert.equal(foreignDescription.memo?.[MEMO_KEY], undefined);

      // Pruning with source 'api' would be the API's business; a code prune with nothing declared still spares them.
      const again = await applyTasks(store, [], { prune: true });
      assert.ok(again.deleted.includes(kept));
      assert.ok(!again.deleted.includes(api) && !again.deleted.includes(foreign));
      assert.equal((await store.get(api)).source, 'api');
      await client.schedule.getHandle(foreign).describe();
    } finally {
      await deleteSchedules(client, all);
    }
  });

  it('skips a code spec whose id is taken by an api task or a foreign schedule, leaving them untouched', async () => {
    const taskQueue = uniqueId('tq');
    const store = testStore(client, taskQueue);
    const api = uniqueId('skip-api');
    const foreign = uniqueId('skip-foreign');
    const mine = uniqueId('skip-mine');
    try {
      const apiSpec = spec(api, { description: 'made through the API' });
      await store.create(apiSpec, 'api');
      await client.schedule.create({
        scheduleId: foreign,
        spec: { cronExpressions: ['0 0 1 1 *'] },
        action: { type: 'startWorkflow', workflowType: 'runTask', taskQueue, args: [] },
        state: { paused: true },
      });
      const apiBefore = await fingerprint(api);
      const foreignBefore = await fingerprint(foreign);

      const result = await applyTasks(store, [
        spec(api, { description: 'declared in code' }),
        spec(foreign),
        spec(mine),
      ]);
      assert.deepEqual(result, {
        created: [mine],
        updated: [],
        unchanged: [],
        deleted: [],
        skipped: [
          { id: api, reason: 'managed by api' },
          { id: foreign, reason: "a schedule that is not this deployment's task has this id" },
        ],
      });
      const stored = await store.get(api);
      assert.equal(stored.source, 'api');
      assert.deepEqual(stored.spec, apiSpec);
      assert.deepEqual(await fingerprint(api), apiBefore);
      assert.deepEqual(await fingerprint(foreign), foreignBefore);
    } finally {
      await deleteSchedules(client, [api, foreign, mine]);
    }
  });

  it('two concurrent applies of the same specs create each task exactly once, without errors', async () => {
    const taskQueue = uniqueId('tq');
    const ids = Array.from({ length: 6 }, (_, n) => uniqueId(`race-${n}`));
    const specs = ids.map((id) => spec(id));
    try {
      // Two stores with their own clients, as two processes would have.
      const other = await testClient();
      let results: ApplyResult[];
      try {
        results = await Promise.all([
          applyTasks(testStore(client, taskQueue), specs),
          applyTasks(testStore(other, taskQueue), specs),
        ]);
      } finally {
        await other.connection.close();
      }
      const [a, b] = results as [ApplyResult, ApplyResult];
      for (const r of [a, b]) {
        assert.deepEqual(r.updated, [], 'nothing to update: both wrote the same spec');
        assert.deepEqual(r.skipped, []);
        assert.deepEqual(r.deleted, []);
        assert.equal(r.created.length + r.unchanged.length, ids.length, JSON.stringify(r));
      }
      const overlap = a.created.filter((id) => b.created.includes(id));
      assert.deepEqual(overlap, [], 'no id was created twice');
      assert.deepEqual(sorted([...a.created, ...b.created]), sorted(ids), 'every id was created once');
      const store = testStore(client, taskQueue);
      for (const [i, id] of ids.entries()) {
        assert.deepEqual(await assertConsistent(store, id), specs[i]);
      }
      const listed = await waitFor(
        async () => {
          const found: string[] = [];
          for await (const s of client.schedule.list()) if (ids.includes(s.scheduleId)) found.push(s.scheduleId);
          return found.length >= ids.length ? found : undefined;
        },
        15_000,
        'the schedules to be listed',
      );
      assert.deepEqual(sorted(listed), sorted(ids), 'one schedule per id');
    } finally {
      await deleteSchedules(client, ids);
    }
  });

  it('two concurrent applies of different versions of a spec leave one version, stored consistently', async () => {
    const taskQueue = uniqueId('tq');
    const ids = Array.from({ length: 5 }, (_, n) => uniqueId(`versions-${n}`));
    const v1 = ids.map((id) => spec(id, { description: 'version one', retry: { maxAttempts: 2 } }));
    const v2 = ids.map((id) =>
      spec(id, { description: 'version two', schedule: { cron: '15 3 1 1 *' }, retry: { maxAttempts: 9 } }),
    );
    try {
      const other = await testClient();
      let results: ApplyResult[];
      try {
        results = await Promise.all([
          applyTasks(testStore(client, taskQueue), v1),
          applyTasks(testStore(other, taskQueue), v2),
        ]);
      } finally {
        await other.connection.close();
      }
      const [a, b] = results as [ApplyResult, ApplyResult];
      assert.deepEqual([...a.skipped, ...b.skipped], []);
      assert.deepEqual(sorted([...a.created, ...b.created]), sorted(ids), 'every id was created exactly once');
      const store = testStore(client, taskQueue);
      for (const [i, id] of ids.entries()) {
        const stored = await assertConsistent(store, id);
        assert.ok(
          specHash(stored) === specHash(v1[i]!) || specHash(stored) === specHash(v2[i]!),
          `${id} holds one of the two versions: ${JSON.stringify(stored)}`,
        );
        const expected = specHash(stored) === specHash(v1[i]!) ? v1[i]! : v2[i]!;
        assert.deepEqual(stored, expected);
        const description = await client.schedule.getHandle(id).describe();
        assert.equal(description.spec.calendars?.[0]?.minute?.[0]?.start, expected === v1[i] ? 0 : 15);
      }
      // And again, racing two updates of tasks that already exist (both see the same conflict token).
      const v3 = ids.map((id) => spec(id, { description: 'version three' }));
      const v4 = ids.map((id) =>
        spec(id, {
          description: 'version four',
          paused: false,
          schedule: { cron: '0 0 1 1 *', startAt: '2099-01-01T00:00:00Z' },
        }),
      );
      const other2 = await testClient();
      let raced: ApplyResult[];
      try {
        raced = await Promise.all([
          applyTasks(testStore(client, taskQueue), v3),
          applyTasks(testStore(other2, taskQueue), v4),
        ]);
      } finally {
        await other2.connection.close();
      }
      for (const r of raced) {
        assert.deepEqual(r.created, []);
        assert.deepEqual(r.skipped, []);
        assert.deepEqual(sorted([...r.updated, ...r.unchanged]), sorted(ids), JSON.stringify(r));
      }
      for (const [i, id] of ids.entries()) {
        const stored = await assertConsistent(store, id);
        assert.ok(
          [specHash(v3[i]!), specHash(v4[i]!)].includes(specHash(stored)),
          `${id} holds v3 or v4: ${JSON.stringify(stored)}`,
        );
        const description = await client.schedule.getHandle(id).describe();
        assert.equal(description.state.paused, stored.paused, `${id}: the schedule state matches the stored spec`);
      }
      // Re-applying either version settles it: the winner is unchanged, the loser's version wins now.
      const settle = await applyTasks(store, v2);
      assert.deepEqual(sorted([...settle.updated, ...settle.unchanged]), sorted(ids));
      for (const [i, id] of ids.entries()) assert.deepEqual(await assertConsistent(store, id), v2[i]);
    } finally {
      await deleteSchedules(client, ids);
    }
  });

  it('a failing write fails the apply only after every other write has finished', async () => {
    const taskQueue = uniqueId('tq');
    const store = testStore(client, taskQueue);
    const ids = Array.from({ length: 12 }, (_, n) => uniqueId(`apply-fail-${n}`));
    const bad = ids[3]!;
    const failing: TaskStore = Object.create(store) as TaskStore;
    failing.create = async (task, source) => {
      if (task.id === bad) throw new Error('the server said no');
      return store.create(task, source);
    };
    try {
      await assert.rejects(
        applyTasks(
          failing,
          ids.map((id) => spec(id)),
          { concurrency: 4 },
        ),
        /the server said no/,
      );
      // Every other task was written completely: nothing left half-applied behind the error.
      for (const id of ids.filter((id) => id !== bad)) await assertConsistent(store, id);
      await assert.rejects(store.get(bad), /not found|TaskNotFound|no task/i);
    } finally {
      await deleteSchedules(client, ids);
    }
  });

  it('tasks made before schedules carried search attributes are indexed at start-up, then listed', async () => {
    const taskQueue = uniqueId('tq');
    const store = testStore(client, taskQueue);
    const legacy = spec(uniqueId('apply-legacy'), { tags: { team: 'old' } });
    const options = toScheduleOptions(legacy, { taskQueue, source: 'code' });
    delete options.typedSearchAttributes;
    await client.schedule.create(options);
    try {
      // The schedule list is eventually consistent: a just-made schedule may take a moment to show.
      const indexed = await waitFor(
        async () => {
          const ids = await store.indexLegacyTasks();
          return ids.length ? ids : undefined;
        },
        15_000,
        'the legacy task to be indexed',
      );
      assert.deepEqual(indexed, [legacy.id]);
      const listed = await waitFor(
        async () => {
          const page = await store.list({ tag: { key: 'team', value: 'old' } });
          return page.items.length ? page : undefined;
        },
        15_000,
        'the indexed task in the list',
      );
      assert.deepEqual(
        listed.items.map((task) => [task.id, task.spec]),
        [[legacy.id, legacy]],
      );
      assert.deepEqual(await assertConsistent(store, legacy.id), legacy);
      // Indexed once: a second start-up finds nothing left to do.
      await waitFor(
        async () => ((await store.indexLegacyTasks()).length === 0 ? true : undefined),
        15_000,
        'no rework',
      );
    } finally {
      await deleteSchedules(client, [legacy.id]);
    }
  });
});
