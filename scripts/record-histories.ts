/**
 * Records workflow histories for the replay tests (test/replay/histories/*.json) from the current workflow
 * code. Run after an intentional, versioned workflow change: `npm run record:histories -- <label>`; older
 * histories stay, so replay proves the new code still runs them. Starts its own dev server.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { createOrderActivities } from '../examples/orders.js';
import { RecordingOrderSystems } from '../examples/recording-order-systems.js';
import { NonRetryableError } from '../src/activities/handler.js';
import { ensureSearchAttributes } from '../src/client.js';
import { resolveTemporalCli } from '../src/temporal/cli.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { toRunInput } from '../src/tasks/schedule.js';
import { TaskService } from '../src/tasks/service.js';
import { TaskStore } from '../src/tasks/store.js';
import { alertStateWorkflowId } from '../src/contract/alert.js';
import { taskSpecSchema, type TaskSpecInput } from '../src/tasks/spec.js';
import { freePort } from '../src/util/ports.js';
import { testClient, testWorker } from '../test/helpers/temporal.js';

const out = new URL('../test/replay/histories/', import.meta.url).pathname;
/** Appended to the recorded workflow ids, so histories of each workflow version are kept side by side. */
const label = process.argv[2] ? `.${process.argv[2]}` : '';
const executable = await resolveTemporalCli({ allowSdkDownload: false });
if (executable.kind !== 'path') throw new Error('recording needs a Temporal CLI binary');
const server = await startDevServer({ executable, port: await freePort(), namespace: 'default' });
try {
  const client = await testClient(server.address);
  await ensureSearchAttributes(client);
  const taskQueue = 'record-histories';
  let calls = 0;
  const { worker, connection } = await testWorker({
    taskQueue,
    address: server.address,
    userActivities: createOrderActivities(new RecordingOrderSystems()),
    handlers: {
      ok: async () => Promise.resolve({ done: true }),
      flaky: async (_input, ctx) => {
        calls += 1;
        if (ctx.attempt < 2) throw new Error('transient');
        return Promise.resolve({ calls });
      },
      broken: async () => Promise.reject(new NonRetryableError('bad input')),
    },
  });
  const runs: Record<string, TaskSpecInput> = {
    succeeded: { id: 'replay.ok', schedule: { every: '1h' }, handler: { type: 'function', name: 'ok' } },
    retried: {
      id: 'replay.flaky',
      schedule: { every: '1h' },
      handler: { type: 'function', name: 'flaky' },
      retry: { maxAttempts: 3, initialInterval: '100ms' },
    },
    failed: { id: 'replay.broken', schedule: { every: '1h' }, handler: { type: 'function', name: 'broken' } },
    'child-workflow': {
      id: 'replay.orders',
      schedule: { every: '1h' },
      handler: { type: 'workflow', name: 'syncOrders' },
    },
    'child-compensated': {
      id: 'replay.orders-fail',
      schedule: { every: '1h' },
      handler: { type: 'workflow', name: 'syncOrders', input: { failAt: 'confirm' } },
    },
  };
  // The CLI writes the canonical proto3 JSON that Worker.runReplayHistories reads.
  const show = (workflowId: string): Buffer =>
    execFileSync(executable.path, [
      'workflow',
      'show',
      '--address',
      server.address,
      '--workflow-id',
      workflowId,
      '--output',
      'json',
    ]);
  const record = (workflowId: string): void => {
    writeFileSync(join(out, `${workflowId}.json`), show(workflowId));
    process.stdout.write(`recorded ${workflowId}\n`);
  };
  await worker.runUntil(async () => {
    // surecron's own workflows: an audited change, the watchdog, an alert delivery and the alert state.
    const service = new TaskService(client, new TaskStore(client, taskQueue));
    const changeId = `replay.change${label}`;
    await service.change({
      action: 'create',
      taskId: changeId,
      actor: 'recorder',
      source: 'api',
      spec: taskSpecSchema.parse({
        id: changeId,
        schedule: { every: '1h' },
        handler: { type: 'function', name: 'ok' },
        paused: true,
      }),
    });
    for await (const change of client.workflow.list({
      query: `WorkflowType = 'taskChange' AND SurecronTaskId = '${changeId}'`,
    })) {
      record(change.workflowId);
    }
    const watchdogId = `replay.watchdog${label}`;
    await client.workflow.execute('watchdog', { taskQueue, workflowId: watchdogId });
    record(watchdogId);

    for (const [name, spec] of Object.entries(runs)) {
      const input = {
        ...toRunInput(taskSpecSchema.parse(spec)),
        nominalTime: '2026-01-01T00:00:00Z',
        trigger: 'manual' as const,
      };
      const handle = await client.workflow.start('runTask', {
        taskQueue,
        workflowId: `${spec.id}-${name}${label}`,
        args: [input],
      });
      await handle.result().catch(() => undefined);
      writeFileSync(join(out, `${handle.workflowId}.json`), show(handle.workflowId));
      if (spec.handler.type === 'workflow')
        writeFileSync(join(out, `${handle.workflowId}.child.json`), show(`${handle.workflowId}.child`));
      process.stdout.write(`recorded ${name}\n`);
    }
    // The failed run raised an alert: its delivery, and the alert state that admitted it.
    const alertId = `alert-replay.broken-failed${label}-run_failed`;
    await client.workflow.getHandle(alertId).result();
    record(alertId);
    record(alertStateWorkflowId(taskQueue));
  });
  await connection.close();
  await client.connection.close();
} finally {
  await server.stop();
}
