import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { applyTasks } from '../../src/tasks/apply.js';
import { TaskExistsError, TaskNotFoundError } from '../../src/tasks/errors.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { testClient, testStore, uniqueId } from '../helpers/temporal.js';

/** Two deployments (task queues) share one namespace: neither can read, change or take over the other's tasks. */
describe('deployments sharing a namespace', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  it("never touch each other's tasks, even under the same id", async () => {
    const ours = testStore(client, uniqueId('tq-ours'));
    const theirs = testStore(client, uniqueId('tq-theirs'));
    const id = uniqueId('shared-id');
    const spec = (description: string) =>
      taskSpecSchema.parse({
        id,
        description,
        schedule: { cron: '0 0 1 1 *' },
        handler: { type: 'function', name: 'h' },
      });
    await theirs.create(spec('theirs'), 'api');
    try {
      await assert.rejects(ours.get(id), TaskNotFoundError);
      await assert.rejects(ours.setPaused(id, true, 'not mine'), TaskNotFoundError);
      await assert.rejects(ours.delete(id), TaskNotFoundError);
      await assert.rejects(ours.create(spec('ours'), 'api'), TaskExistsError);
      const applied = await applyTasks(ours, [spec('ours')], { source: 'api' });
      assert.deepEqual(applied.skipped, [{ id, reason: "a schedule that is not this deployment's task has this id" }]);
      const untouched = await theirs.get(id);
      assert.equal(untouched.spec.description, 'theirs');
      assert.equal(untouched.description.state.paused, false);
    } finally {
      await client.schedule.getHandle(id).delete();
    }
  });
});
