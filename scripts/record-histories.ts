/**
 * Records workflow histories for the replay tests (test/replay/histories/*.json) from the current workflow
 * code. Run after an intentional, versioned workflow change: `npm run record:histories -- <label>`; older
 * histories stay, so replay proves the new code still runs them. Starts its own dev server.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { exampleCode } from '../examples/index.js';
import { writeUserWorkflowBundle } from '../src/testing/index.js';
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
import { circuitWorkflowId } from '../src/contract/circuit.js';
import { groupWorkflowId } from '../src/contract/group.js';
import { freePort } from '../src/util/ports.js';
import { testClient, testWorker } from '../test/helpers/temporal.js';
import { waitFor } from '../src/util/wait.js';
import type { Client } from '@temporalio/client';

const out = new URL('../test/replay/histories/', import.meta.url).pathname;

/**
 * A DST skip after a failure, from a real Schedule: New York's 01:30 exists twice on 2027-11-07, the server fires
 * both and the policy (`once`) skips the second. The server's backfill runs the first (it fails) and then the
 * second, which ends at once with the failure as its `lastFailure`.
 */
async function recordDstSkip(
  client: Client,
  service: TaskService,
  label: string,
  show: (workflowId: string) => Buffer,
): Promise<void> {
  const id = `replay.dst${label}`;
  const spec = taskSpecSchema.parse({
    id,
    schedule: { cron: '30 1 * * *', timezone: 'America/New_York' },
    handler: { type: 'function', name: 'broken' },
    paused: true,
  });
  await service.change({ action: 'create', taskId: id, actor: 'recorder', source: 'api', spec });
  const schedule = client.schedule.getHandle(id);
  await schedule.backfill({
    start: new Date('2027-11-07T05:00:00Z'),
    end: new Date('2027-11-07T07:00:00Z'),
    overlap: 'BUFFER_ALL',
  });
  const skipped = client.workflow.getHandle(`${id}-2027-11-07T06:30:00Z`);
  await waitFor(async () => skipped.result().then(() => true), 30_000, 'the DST-skipped run');
  await schedule.delete();
  writeFileSync(join(out, `${id}.skipped.json`), show(skipped.workflowId));
  process.stdout.write(`recorded ${id}.skipped\n`);
}
/** Appended to the recorded workflow ids, so histories of each workflow version are kept side by side. */
const label = process.argv[2] ? `.${process.argv[2]}` : '';
// The seed examples' workflows (syncOrders) are recorded too: bundle them as `npm test` does.
const bundleDir = mkdtempSync(join(tmpdir(), 'surecron-record-'));
process.env.SURECRON_TEST_BUNDLE = join(bundleDir, 'workflow-bundle.js');
await writeUserWorkflowBundle(process.env.SURECRON_TEST_BUNDLE, exampleCode().workflowsPath);
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
    // The failed run's P1 alert escalates after a second (to no channel): its delivery records the escalation.
    alerts: { channels: [], escalateAfter: { P1: '1s' } },
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
    // Short attempts run as a local activity (tasks/execution.ts): a first-try success, and a retried one.
    'local-succeeded': {
      id: 'replay.local-ok',
      schedule: { every: '1h' },
      handler: { type: 'function', name: 'ok' },
      timeouts: { attempt: '5s' },
    },
    'local-retried': {
      id: 'replay.local-flaky',
      schedule: { every: '1h' },
      handler: { type: 'function', name: 'flaky' },
      timeouts: { attempt: '5s' },
      retry: { maxAttempts: 3, initialInterval: '100ms' },
    },
    'child-workflow': {
      id: 'replay.orders',
      schedule: { every: '1h' },
      handler: { type: 'workflow', name: 'syncOrders' },
    },
    // In a concurrency group and a rate group: the permits asked, granted and given back around the handler.
    grouped: {
      id: 'replay.grouped',
      schedule: { every: '1h' },
      handler: { type: 'function', name: 'ok' },
      concurrency: { group: 'replay', limit: 2 },
      rateLimit: { group: 'replay', perSecond: 10 },
    },
    // Behind a circuit breaker that its first failure opens: the run waits for it, then its trial succeeds.
    'circuit-waited': {
      id: 'replay.guarded',
      schedule: { every: '1h' },
      handler: { type: 'function', name: 'flaky' },
      retry: { maxAttempts: 3, initialInterval: '100ms' },
      circuitBreaker: { key: 'replay-dependency', failures: 1, window: 1, openFor: '1s' },
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
    // The groups' own workflows, still running: what they recorded granting the grouped run.
    for (const kind of ['concurrency', 'rate'] as const) {
      const groupId = groupWorkflowId(kind, 'replay');
      writeFileSync(join(out, `${groupId}${label}.json`), show(groupId));
      process.stdout.write(`recorded ${groupId}\n`);
    }
    // The breaker's own workflow, still running: the failure that opened it, the trial and its success.
    const circuitId = circuitWorkflowId('replay-dependency');
    writeFileSync(join(out, `${circuitId}${label}.json`), show(circuitId));
    process.stdout.write(`recorded ${circuitId}\n`);
    await recordDstSkip(client, service, label, show);
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
  rmSync(bundleDir, { recursive: true, force: true });
}
