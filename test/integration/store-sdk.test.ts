import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, type ConnectionLike, type ScheduleClientInterceptor, type WorkflowService } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type proto from '@temporalio/proto';
import { searchAttributeKeys } from '../../src/contract/search-attributes.js';
import { toScheduleOptions } from '../../src/tasks/schedule.js';
import { taskSpecSchema, type TaskSpec, type TaskSpecInput } from '../../src/tasks/spec.js';
import { InvalidPageTokenError, listExecutions, quote } from '../../src/temporal/visibility.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { deleteSchedules } from '../helpers/teardown.js';

type UpdateScheduleRequest = proto.temporal.api.workflowservice.v1.IUpdateScheduleRequest;
type Payload = proto.temporal.api.common.v1.IPayload;

/** A task that never fires during a test: yearly, on a task queue no worker polls. */
function spec(id: string, extra: Partial<TaskSpecInput> = {}): TaskSpec {
  return taskSpecSchema.parse({
    id,
    description: `store-sdk test ${id}`,
    schedule: { cron: '0 0 1 1 *' },
    handler: { type: 'function', name: 'heartbeat' },
    ...extra,
  } satisfies TaskSpecInput);
}

const traceHeader = 'surecron-test-trace';
const trace = defaultPayloadConverter.toPayload({ traceId: 'trace-4bf92f3577b34da6' });

/** Puts the trace header on every schedule it creates, the way a tracing interceptor does. */
const tracing: ScheduleClientInterceptor = {
  create: (input, next) => next({ ...input, headers: { ...input.headers, [traceHeader]: trace } }),
};

/** A payload as exact bytes: its metadata and data, base64. */
function bytes(payload: Payload | null | undefined): { metadata: Record<string, string>; data: string } | undefined {
  if (!payload) return undefined;
  const base64 = (value: Uint8Array | null | undefined): string => Buffer.from(value ?? []).toString('base64');
  const metadata = Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, base64(value)] as const);
  return { metadata: Object.fromEntries(metadata), data: base64(payload.data) };
}

/** `connection` with every UpdateSchedule request sent through it recorded; `before` runs ahead of each. */
function recording(
  connection: ConnectionLike,
  requests: UpdateScheduleRequest[],
  before: () => Promise<void> = async () => {},
): ConnectionLike {
  const updateSchedule = async (request: UpdateScheduleRequest) => {
    requests.push(request);
    await before();
    return connection.workflowService.updateSchedule(request);
  };
  const workflowService = Object.assign(Object.create(connection.workflowService) as WorkflowService, {
    updateSchedule,
  });
  return Object.assign(Object.create(connection) as ConnectionLike, { workflowService });
}

describe('TaskStore writes through the SDK against the real dev server', () => {
  let client: Client;
  let traced: Client;
  before(async () => {
    client = await testClient();
    traced = new Client({ connection: client.connection, namespace: 'default', interceptors: { schedule: [tracing] } });
  });
  after(async () => {
    await client.connection.close();
  });

  /** The headers of a schedule's action, as the server keeps them. */
  async function headers(id: string): Promise<Record<string, ReturnType<typeof bytes>>> {
    const { raw } = await client.schedule.getHandle(id).describe();
    const fields = raw.schedule?.action?.startWorkflow?.header?.fields ?? {};
    return Object.fromEntries(Object.entries(fields).map(([key, payload]) => [key, bytes(payload)]));
  }

  const traced1 = { [traceHeader]: bytes(trace) };

  it('a spec update keeps the schedule header byte for byte, and changes what it should', async () => {
    const taskQueue = uniqueId('tq');
    const task = spec(uniqueId('sdk-replace'));
    try {
      await testStore(traced, taskQueue).create(task, 'api');
      assert.deepEqual(await headers(task.id), traced1, 'the interceptor put the header on the created schedule');
      assert.deepEqual(bytes(trace)?.metadata, { encoding: Buffer.from('json/plain').toString('base64') });

      const store = testStore(client, taskQueue);
      const changed = spec(task.id, { description: 'changed once', schedule: { cron: '30 6 1 1 *' } });
      assert.equal(await store.replace(changed, 'api'), true);
      assert.deepEqual(await headers(task.id), traced1, 'the header survives the update');
      const stored = await store.get(task.id);
      assert.deepEqual(stored.spec, changed);
      assert.equal(stored.description.spec.calendars?.[0]?.minute?.[0]?.start, 30);
      assert.equal(stored.description.spec.calendars?.[0]?.hour?.[0]?.start, 6);
      assert.equal(
        stored.description.action.type === 'startWorkflow' && stored.description.action.taskQueue,
        taskQueue,
      );
      assert.deepEqual(
        stored.description.typedSearchAttributes.get(searchAttributeKeys.taskQueue),
        taskQueue,
        'the schedule keeps its task queue search attribute',
      );

      assert.equal(await store.replace(spec(task.id, { description: 'changed twice' }), 'api'), true);
      assert.deepEqual(await headers(task.id), traced1, 'the header survives a second update');
    } finally {
      await deleteSchedules(client, [task.id]);
    }
  });

  it('pausing and resuming keep the schedule header', async () => {
    const taskQueue = uniqueId('tq');
    const task = spec(uniqueId('sdk-pause'));
    try {
      await testStore(traced, taskQueue).create(task, 'api');
      const store = testStore(client, taskQueue);
      const paused = await store.setPaused(task.id, true, 'held for the test');
      assert.ok(paused.writtenAt instanceof Date);
      assert.deepEqual(await headers(task.id), traced1, 'the header survives the pause');
      const description = await client.schedule.getHandle(task.id).describe();
      assert.equal(description.state.paused, true);
      assert.equal(description.state.note, 'held for the test');

      await store.setPaused(task.id, false, 'resumed for the test');
      assert.deepEqual(await headers(task.id), traced1, 'the header survives the resume');
      assert.equal((await client.schedule.getHandle(task.id).describe()).state.paused, false);
    } finally {
      await deleteSchedules(client, [task.id]);
    }
  });

  it('indexing a task made before schedules carried search attributes keeps its header', async () => {
    const taskQueue = uniqueId('tq');
    const legacy = spec(uniqueId('sdk-legacy'), { tags: { team: 'sdk' } });
    const options = toScheduleOptions(legacy, { taskQueue, source: 'code' });
    delete options.typedSearchAttributes;
    await traced.schedule.create(options);
    try {
      const store = testStore(client, taskQueue);
      const indexed = await waitFor(
        async () => {
          const ids = await store.indexLegacyTasks();
          return ids.length ? ids : undefined;
        },
        15_000,
        'the legacy task to be indexed',
      );
      assert.deepEqual(indexed, [legacy.id]);
      assert.deepEqual(await headers(legacy.id), traced1, 'the header survives the indexing');
      const { typedSearchAttributes } = await client.schedule.getHandle(legacy.id).describe();
      assert.equal(typedSearchAttributes.get(searchAttributeKeys.taskQueue), taskQueue);
      assert.deepEqual(typedSearchAttributes.get(searchAttributeKeys.tags), ['team=sdk']);
    } finally {
      await deleteSchedules(client, [legacy.id]);
    }
  });

  it('the update request carries the conflict token it was computed from and the current header', async () => {
    const taskQueue = uniqueId('tq');
    const task = spec(uniqueId('sdk-token'));
    try {
      await testStore(traced, taskQueue).create(task, 'api');
      const { raw } = await client.schedule.getHandle(task.id).describe();
      const token = Buffer.from(raw.conflictToken ?? []).toString('hex');
      assert.ok(token.length > 0, 'the server hands out a conflict token');

      const requests: UpdateScheduleRequest[] = [];
      const watched = new Client({ connection: recording(client.connection, requests), namespace: 'default' });
      assert.equal(await testStore(watched, taskQueue).replace(spec(task.id, { description: 'guarded' }), 'api'), true);
      assert.equal(requests.length, 1, 'one write');
      const [request] = requests;
      assert.equal(Buffer.from(request?.conflictToken ?? []).toString('hex'), token);
      assert.equal(request?.scheduleId, task.id);
      assert.equal(request?.namespace, 'default');
      const header = request?.schedule?.action?.startWorkflow?.header?.fields ?? {};
      assert.deepEqual(bytes(header[traceHeader]), bytes(trace));
      assert.deepEqual(Object.keys(header), [traceHeader]);
    } finally {
      await deleteSchedules(client, [task.id]);
    }
  });

  it('a write computed from a stale view is refused: the change made in between survives', async () => {
    const taskQueue = uniqueId('tq');
    const task = spec(uniqueId('sdk-stale'));
    try {
      await testStore(traced, taskQueue).create(task, 'api');
      const other = testStore(client, taskQueue);
      const requests: UpdateScheduleRequest[] = [];
      // Between the store's read and its first write, another writer pauses the task.
      const meddle = async () => {
        if (requests.length === 1) await other.setPaused(task.id, true, 'paused by the other writer');
      };
      const watched = new Client({ connection: recording(client.connection, requests, meddle), namespace: 'default' });
      const wanted = spec(task.id, { description: 'written over a stale view' });
      const writtenAt = await testStore(watched, taskQueue).replaceSpec(wanted, 'api');
      assert.ok(writtenAt instanceof Date);

      assert.equal(requests.length, 2, 'the stale write was refused and the store wrote again from a fresh view');
      const [first, second] = requests.map((request) => Buffer.from(request.conflictToken ?? []).toString('hex'));
      assert.notEqual(first, second);
      assert.equal(requests[0]?.schedule?.state?.paused, false, 'the stale write would have resumed the task');
      const stored = await other.get(task.id);
      assert.deepEqual(stored.spec, wanted);
      assert.equal(stored.description.state.paused, true, "the other writer's pause survives");
      assert.equal(stored.description.state.note, 'paused by the other writer');
      assert.deepEqual(await headers(task.id), traced1);
    } finally {
      await deleteSchedules(client, [task.id]);
    }
  });
});

describe('listExecutions against the real dev server', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  it('pages with the server token, decodes memo and search attributes, refuses a token it did not hand out', async () => {
    const taskId = uniqueId('sdk-list');
    const taskQueue = uniqueId('tq-nobody-polls');
    const workflowIds = [1, 2, 3].map((n) => `${taskId}-run-${n}`);
    for (const [i, workflowId] of workflowIds.entries()) {
      await client.workflow.start('surecronNoSuchWorkflow', {
        workflowId,
        taskQueue,
        memo: { index: i, note: `run ${i}` },
        typedSearchAttributes: [{ key: searchAttributeKeys.taskId, value: taskId }],
      });
    }
    try {
      const query = `${searchAttributeKeys.taskId.name} = ${quote(taskId)}`;
      const first = await waitFor(
        async () =>
          (await client.workflow.count(query)).count === 3 ? listExecutions(client, query, { pageSize: 2 }) : undefined,
        15_000,
        'three executions in visibility',
      );
      assert.equal(first.executions.length, 2);
      assert.ok(first.nextPageToken, 'a token for the second page');
      const second = await listExecutions(client, query, { pageSize: 2, pageToken: first.nextPageToken });
      assert.equal(second.executions.length, 1);
      assert.equal(second.nextPageToken, undefined, 'the last page has no token');

      const executions = [...first.executions, ...second.executions].sort((a, b) =>
        a.workflowId.localeCompare(b.workflowId),
      );
      assert.deepEqual(
        executions.map((execution) => [execution.workflowId, execution.memo]),
        workflowIds.map((workflowId, i) => [workflowId, { index: i, note: `run ${i}` }]),
        'each run once across the two pages, with its memo',
      );
      for (const [i, execution] of executions.entries()) {
        assert.equal(execution.typedSearchAttributes.get(searchAttributeKeys.taskId), taskId);
        assert.equal(execution.taskQueue, taskQueue);
        assert.equal(execution.type, 'surecronNoSuchWorkflow');
        assert.equal(execution.status.name, 'RUNNING');
        assert.equal(execution.raw.execution?.workflowId, workflowIds[i]);
      }

      await assert.rejects(listExecutions(client, query, { pageToken: 'bm90LWEtdG9rZW4' }), InvalidPageTokenError);
    } finally {
      for (const workflowId of workflowIds) await client.workflow.getHandle(workflowId).terminate('test over');
    }
  });
});
