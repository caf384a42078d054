import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { NativeConnection, Worker } from '@temporalio/worker';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import type { TaskStore } from '../../src/tasks/store.js';
import { tasks as declaredTasks } from '../../src/user/tasks.js';
import { deleteSchedules } from '../helpers/teardown.js';
import { testAddress, testClient, testStore, testWorker, uniqueId } from '../helpers/temporal.js';

const root = new URL('../..', import.meta.url).pathname;

/** Runs `npm run apply`'s script (`src/apply.ts`) against the test server; resolves with its exit and output. */
async function runApply(
  taskQueue: string,
  args: string[] = [],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/apply.ts', ...args], {
    cwd: root,
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: testAddress(),
      SURECRON_TASK_QUEUE: taskQueue,
      SURECRON_LOG_FORMAT: 'json',
      SURECRON_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr };
}

/** The `tasks in code applied` line `npm run apply` logs. */
function applied(stdout: string): { created: string[]; updated: string[]; unchanged: string[]; deleted: string[] } {
  const line = stdout
    .split('\n')
    .filter(Boolean)
    .map((text) => JSON.parse(text) as { msg?: string })
    .find((entry) => entry.msg === 'tasks in code applied');
  assert.ok(line, `no result line in: ${stdout}`);
  return line as never;
}

describe('npm run apply', () => {
  const taskQueue = uniqueId('apply-cmd');
  const declaredIds = declaredTasks.map((task) => task.id).sort();
  const staleId = uniqueId('apply-cmd.stale');
  const apiId = uniqueId('apply-cmd.api');
  let client: Client;
  let store: TaskStore;
  let worker: { worker: Worker; connection: NativeConnection } | undefined;
  let running: Promise<void> | undefined;

  before(async () => {
    client = await testClient();
    store = testStore(client, taskQueue);
  });
  after(async () => {
    await deleteSchedules(client, [...declaredIds, staleId, apiId]);
    if (worker) {
      worker.worker.shutdown();
      await running;
      await worker.connection.close();
    }
    await client.connection.close();
  });

  it('refuses with one line and changes nothing while no worker polls the task queue', async () => {
    const result = await runApply(taskQueue);
    assert.equal(result.code, 1);
    const lines = result.stderr.trim().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(
      lines[0] ?? '',
      /^surecron apply: cannot apply \(.*\); start a worker first \(npm run start:worker\)$/,
    );
    assert.deepEqual(await store.listIds('code'), []);
  });

  it('applies the tasks declared in code; keeps undeclared ones unless --prune; a second apply changes nothing', async () => {
    worker = await testWorker({ taskQueue });
    running = worker.worker.run();
    const service = new TaskService(client, store);
    const stale = taskSpecSchema.parse({
      id: staleId,
      schedule: { cron: '0 0 1 1 *' },
      handler: { type: 'function', name: 'heartbeat' },
      paused: true,
    });
    await service.writer('code').create(stale, 'code');
    await service.change({
      action: 'create',
      taskId: apiId,
      actor: 'test',
      source: 'api',
      spec: { ...stale, id: apiId },
    });

    const first = await runApply(taskQueue);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(applied(first.stdout).created.sort(), declaredIds);
    assert.deepEqual(applied(first.stdout).deleted, []);
    assert.deepEqual((await store.listIds('code')).sort(), [...declaredIds, staleId].sort());
    for (const task of declaredTasks) {
      assert.deepEqual((await store.get(task.id)).spec, taskSpecSchema.parse(task), `${task.id} as declared`);
    }

    const pruned = await runApply(taskQueue, ['--prune']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.deepEqual(applied(pruned.stdout).deleted, [staleId]);
    assert.deepEqual(applied(pruned.stdout).unchanged.sort(), declaredIds);
    assert.deepEqual((await store.listIds('code')).sort(), declaredIds);
    assert.deepEqual(await store.listIds('api'), [apiId], 'an API task is never pruned');

    const again = await runApply(taskQueue, ['--prune']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(applied(again.stdout), { ...applied(again.stdout), created: [], updated: [], deleted: [] });
    assert.deepEqual(applied(again.stdout).unchanged.sort(), declaredIds);
  });
});
