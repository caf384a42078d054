import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Client, WorkflowFailedError, WorkflowHandle } from '@temporalio/client';
import type { ApplicationFailure } from '@temporalio/common';
import { createWatchdogActivities } from '../../src/activities/watchdog.js';
import { AlertStateStore } from '../../src/alerting/alert-state.js';
import { createTaskMetrics } from '../../src/metrics/task-metrics.js';
import { listAudit } from '../../src/tasks/audit.js';
import { TaskService } from '../../src/tasks/service.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { alertReceiver, type ReceivedAlert } from '../helpers/http.js';
import { runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';
import { sleep } from '../helpers/time.js';

const SECRET = 'webhook-secret-for-tests';

describe('alerts end to end: a real webhook receiver, the shared alert state and the watchdog', () => {
  let client: Client;
  let hook: Awaited<ReturnType<typeof alertReceiver>>;
  let worker: RunningWorker;
  const taskQueue = uniqueId('tq-alerts');
  const outcomes = new Map<string, boolean[]>();
  let service: TaskService;
  const metrics = createTaskMetrics();

  before(async () => {
    client = await testClient();
    hook = await alertReceiver(SECRET);
    worker = await runTestWorker({
      taskQueue,
      metrics,
      callbackSecret: SECRET,
      alerts: { channels: [{ type: 'webhook', name: 'hook', url: hook.url, secret: SECRET }] },
      handlers: {
        /** Works until cancelled (or 20 s): a run that hangs. */
        stall: async (_input, ctx) => {
          await new Promise((resolve) => {
            const timer = setTimeout(resolve, 20_000);
            ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(undefined)));
          });
          return 'stopped';
        },
        /** Fails or succeeds per the script given for the task. */
        scripted: async (_input, ctx) => {
          const script = outcomes.get(ctx.taskId) ?? [];
          const ok = script.shift() ?? true;
          if (!ok) throw new Error(`scripted failure at ${ctx.nominalTime}`);
          return Promise.resolve('ok');
        },
      },
    });
    service = new TaskService(client, testStore(client, taskQueue));
  });

  after(async () => {
    // Kept as an artifact: one real delivery of each kind, as the receiver got it.
    mkdirSync('test-results', { recursive: true });
    writeFileSync('test-results/alerts-received.json', JSON.stringify(hook.received, null, 2));
    await worker.stop();
    await hook.close();
    await client.connection.close();
  });

  const create = (spec: TaskSpecInput) =>
    service.change({
      action: 'create',
      taskId: spec.id,
      actor: 'test',
      source: 'api',
      spec: taskSpecSchema.parse(spec),
    });

  it('a failing task alerts once (deduplicated), then its streak, then recovery once', async () => {
    const id = uniqueId('flaky');
    outcomes.set(id, [false, false, false, true, true, true]);
    await create({
      id,
      schedule: { cron: '*/2 * * * * *' },
      handler: { type: 'function', name: 'scripted' },
      retry: { maxAttempts: 1 },
      alerts: { severity: 'P0', consecutiveFailures: 2 },
    });
    try {
      await waitFor(
        async () => (hook.received.some((a) => a.taskId === id && a.event === 'task_recovered') ? true : undefined),
        30_000,
        'recovery alert',
      );
      await sleep(5_000);
    } finally {
      await client.schedule.getHandle(id).delete();
    }
    const mine = hook.received.filter((a) => a.taskId === id);
    assert.deepEqual(
      mine.map((a) => a.event),
      ['run_failed', 'consecutive_failures', 'task_recovered'],
      'three failures: one run_failed (the next two deduplicated), one streak alert at 2, one recovery',
    );
    assert.ok(
      mine.every((a) => a.signed),
      'every delivery carries a valid HMAC signature',
    );
    assert.ok(mine.every((a) => a.severity === 'P0'));
    assert.equal(mine[1]?.details.streak, 2);
    assert.equal(mine[0]?.details.attempts, 1);
    assert.match(String(mine[0]?.details.workflowId), new RegExp(`^${id}-`));
  });

  it('a DST-skipped run carries the failure streak on: fail, skip, fail is a streak of 2', async () => {
    const id = uniqueId('dst-streak');
    // New York's 01:30 exists twice on 2027-11-07: the server fires both, the policy (once) skips the second.
    outcomes.set(id, [false, false, true]);
    await create({
      id,
      schedule: { cron: '30 1 * * *', timezone: 'America/New_York' },
      handler: { type: 'function', name: 'scripted' },
      retry: { maxAttempts: 1 },
      alerts: { severity: 'P2', consecutiveFailures: 2 },
      paused: true,
    });
    const nominals = ['2027-11-07T05:30:00Z', '2027-11-07T06:30:00Z', '2027-11-08T06:30:00Z', '2027-11-09T06:30:00Z'];
    try {
      // The server's own backfill, one run after another: each sees the one before as its lastFailure/lastResult.
      await client.schedule.getHandle(id).backfill({
        start: new Date('2027-11-07T05:00:00Z'),
        end: new Date('2027-11-09T07:00:00Z'),
        overlap: 'BUFFER_ALL',
      });
      await waitFor(
        async () => (hook.received.some((a) => a.taskId === id && a.event === 'task_recovered') ? true : undefined),
        30_000,
        'recovery alert',
      );
      await sleep(2_000);
    } finally {
      await client.schedule.getHandle(id).delete();
    }
    const [failed, skipped, failedAgain, recovered] = nominals.map((nominal) =>
      client.workflow.getHandle(`${id}-${nominal}`),
    ) as [WorkflowHandle, WorkflowHandle, WorkflowHandle, WorkflowHandle];
    const streakOf = (handle: WorkflowHandle) =>
      handle.result().then(
        () => assert.fail(`${handle.workflowId} failed`),
        (error: WorkflowFailedError) => ((error.cause as ApplicationFailure).details?.[0] as { streak: number }).streak,
      );
    assert.equal(await streakOf(failed), 1);
    assert.deepEqual(await skipped.result(), {
      taskId: id,
      nominalTime: nominals[1],
      idempotencyKey: `${id}@${nominals[1]}`,
      attempt: 0,
      result: null,
      dstSkipped: true,
      streak: 1,
    });
    assert.equal(await streakOf(failedAgain), 2, 'the skip did not reset the streak');
    assert.equal(((await recovered.result()) as { attempt: number }).attempt, 1);
    const mine = hook.received.filter((a) => a.taskId === id);
    assert.deepEqual(
      mine.map((a) => a.event),
      ['run_failed', 'consecutive_failures', 'task_recovered'],
      'fail (alerted), skip, fail (deduplicated, and the streak of 2), success (recovery)',
    );
    assert.equal(mine[1]?.details.streak, 2);
    assert.equal(mine[1]?.details.nominalTime, nominals[2]);
    assert.equal(mine[2]?.details.previousStreak, 2);
  });

  it('a silenced task stays silent; the silence is listed and can be removed', async () => {
    const id = uniqueId('quiet');
    outcomes.set(id, [false, false, false]);
    const silences = new AlertStateStore(client, taskQueue);
    const silence = await silences.addSilence({
      match: { tag: 'team=quiet' },
      endsAt: new Date(Date.now() + 600_000).toISOString(),
      reason: 'maintenance',
      createdBy: 'test',
    });
    assert.ok((await silences.silences()).some((s) => s.id === silence.id && s.reason === 'maintenance'));
    await create({
      id,
      tags: { team: 'quiet' },
      schedule: { cron: '*/2 * * * * *' },
      handler: { type: 'function', name: 'scripted' },
      retry: { maxAttempts: 1 },
    });
    try {
      await sleep(7_000);
    } finally {
      await client.schedule.getHandle(id).delete();
    }
    const failures = client.workflow.list({
      query: `WorkflowType = 'deliverAlert' AND WorkflowId STARTS_WITH 'alert-${id}'`,
    });
    let silencedDecisions = 0;
    for await (const execution of failures) {
      const result = (await client.workflow.getHandle(execution.workflowId).result()) as { decision: string };
      if (result.decision === 'silenced') silencedDecisions += 1;
    }
    assert.ok(silencedDecisions >= 2, `alerts were raised and silenced (${silencedDecisions})`);
    assert.equal(hook.received.filter((a) => a.taskId === id).length, 0, 'nothing reached the receiver');
    assert.equal(await silences.removeSilence(silence.id), true);
    assert.equal(await silences.removeSilence(silence.id), false);
  });

  it("the watchdog catches a schedule deleted behind surecron's back", async () => {
    const id = uniqueId('deleted');
    await create({ id, schedule: { every: '1h' }, handler: { type: 'function', name: 'scripted' } });
    await client.schedule.getHandle(id).delete();
    const result = await client.workflow.execute<() => Promise<{ alerts: number }>>('watchdog', {
      taskQueue,
      workflowId: uniqueId('watchdog'),
    });
    assert.ok(result.alerts >= 1);
    const drift = await waitFor(
      async () => hook.received.find((a) => a.taskId === id && a.event === 'schedule_drift'),
      20_000,
      'the drift alert',
    );
    assert.equal(drift.details.reason, 'deleted');
    assert.ok(drift.signed);
  });

  it('a task paused through surecron and then triggered or updated is no drift', async () => {
    const id = uniqueId('paused-by-us');
    const spec = { id, schedule: { every: '1h' }, handler: { type: 'function', name: 'scripted' } } as const;
    await create(spec);
    await service.change({ action: 'pause', taskId: id, actor: 'test', source: 'api', note: 'maintenance' });
    await service.change({ action: 'trigger', taskId: id, actor: 'test', source: 'api' });
    const spec2 = taskSpecSchema.parse({ ...spec, description: 'changed while paused' });
    await service.change({ action: 'update', taskId: id, actor: 'test', source: 'api', spec: spec2 });
    try {
      // Visibility is eventually consistent: wait until the trail holds the four changes.
      await waitFor(
        async () => ((await listAudit(client, { taskId: id })).items.length >= 4 ? true : undefined),
        10_000,
        'the audit trail',
      );
      const alerts = await createWatchdogActivities({ client, store: service.store }).inspectTasks({});
      assert.equal((await client.schedule.getHandle(id).describe()).state.paused, true);
      assert.deepEqual(
        alerts.filter(({ alert }) => alert.taskId === id).map(({ alert }) => alert.event),
        [],
        'the latest pause is ours although later changes followed it',
      );
    } finally {
      await client.schedule.getHandle(id).delete();
    }
  });

  it('the watchdog reports a schedule paused directly in Temporal, and runs that never started', async () => {
    const id = uniqueId('paused');
    await create({ id, schedule: { every: '1h' }, handler: { type: 'function', name: 'scripted' } });
    await client.schedule.getHandle(id).pause('someone in the Web UI');
    const changedId = uniqueId('changed');
    await create({
      id: changedId,
      schedule: { cron: '0 9 * * MON-FRI', timezone: 'Asia/Shanghai' },
      handler: { type: 'function', name: 'scripted' },
    });
    await client.schedule
      .getHandle(changedId)
      .update((previous) => ({ ...previous, spec: { intervals: [{ every: '2h' }] } }));
    // No worker polls this queue: the schedule starts runs, nobody picks them up.
    const idle = testStore(client, uniqueId('tq-nobody'));
    const lateId = uniqueId('late');
    await idle.create(
      taskSpecSchema.parse({
        id: lateId,
        schedule: { cron: '*/2 * * * * *' },
        handler: { type: 'function', name: 'scripted' },
        maxLateness: '2s',
        overlap: 'allow_all',
      }),
      'api',
    );
    try {
      await sleep(7_000);
      const late = await createWatchdogActivities({ client, store: idle }).inspectTasks({});
      const lateEvents = late.filter((a) => a.alert.taskId === lateId).map((a) => a.alert.event);
      assert.ok(
        lateEvents.length >= 1 && lateEvents.every((e) => e === 'run_late'),
        `late runs: ${lateEvents.join(',')}`,
      );
      assert.match(String(late[0]?.alert.details.nominalTime), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      await client.workflow.execute('watchdog', { taskQueue, workflowId: uniqueId('watchdog'), args: [] });
      const drift = await waitFor(
        async () => hook.received.find((a) => a.taskId === id && a.event === 'schedule_drift'),
        20_000,
        'the paused drift alert',
      );
      assert.equal(drift.details.reason, 'paused');
      assert.equal(drift.details.note, 'someone in the Web UI');
      const changed = await waitFor(
        async () => hook.received.find((a) => a.taskId === changedId && a.event === 'schedule_drift'),
        20_000,
        'the changed drift alert',
      );
      assert.equal(changed.details.reason, 'changed');
      assert.ok(
        !hook.received.some(
          (a) => a.event === 'schedule_drift' && a.details.reason === 'changed' && a.taskId !== changedId,
        ),
        'untouched schedules are not reported as changed',
      );
    } finally {
      await client.schedule.getHandle(id).delete();
      await client.schedule.getHandle(changedId).delete();
      await client.schedule.getHandle(lateId).delete();
      for await (const run of client.workflow.list({
        query: `SurecronTaskId = '${lateId}' AND ExecutionStatus = 'Running'`,
      })) {
        await client.workflow.getHandle(run.workflowId).terminate('test over');
      }
    }
  });

  it('a run still going past maxRuntime alerts run_overdue (not run_late, not run_failed); one without is quiet', async () => {
    const bounded = uniqueId('overdue');
    const unbounded = uniqueId('unbounded');
    const stall = { schedule: { every: '1h' }, handler: { type: 'function', name: 'stall' } } as const;
    await create({ id: bounded, ...stall, maxRuntime: '2s' });
    await create({ id: unbounded, ...stall });
    const runs: { workflowId: string }[] = [];
    try {
      for (const id of [bounded, unbounded]) {
        const result = await service.change({ action: 'trigger', taskId: id, actor: 'test', source: 'api' });
        runs.push(result.run as { workflowId: string });
      }
      await sleep(3_500);
      const found = await createWatchdogActivities({ client, store: service.store }).inspectTasks({});
      const overdue = found.filter((a) => a.alert.event === 'run_overdue');
      assert.deepEqual(
        overdue.map((a) => a.alert.taskId),
        [bounded],
      );
      const details = overdue[0]?.alert.details ?? {};
      assert.equal(details.workflowId, runs[0]?.workflowId);
      assert.equal(details.maxRuntimeMs, 2000);
      assert.ok(
        Number(details.runningForMs) > 2000 && Number(details.runningForMs) < 15_000,
        String(details.runningForMs),
      );
      assert.ok(!found.some((a) => a.alert.taskId === bounded && a.alert.event === 'run_late'));
      // Delivered through the watchdog workflow to the real receiver.
      await client.workflow.execute('watchdog', { taskQueue, workflowId: uniqueId('watchdog'), args: [] });
      const received = await waitFor(
        async () => hook.received.find((a) => a.taskId === bounded && a.event === 'run_overdue'),
        20_000,
        'the run_overdue alert at the webhook',
      );
      assert.match(received.summary, /still going after \d+ s \(maxRuntime 2s\)/);
      assert.equal(received.signed, true);
    } finally {
      for (const run of runs)
        await client.workflow
          .getHandle(run.workflowId)
          .terminate('test over')
          .catch(() => undefined);
      await client.schedule.getHandle(bounded).delete();
      await client.schedule.getHandle(unbounded).delete();
    }
  });

  it('notify callbacks receive a signed JSON on success and on failure; task metrics count the runs', async () => {
    const id = uniqueId('notified');
    outcomes.set(id, [true, false]);
    await create({
      id,
      schedule: { cron: '0 0 1 1 *' },
      handler: { type: 'function', name: 'scripted' },
      retry: { maxAttempts: 1 },
      alerts: { onFailure: false },
      notify: { onSuccess: `${hook.url}?ok`, onFailure: `${hook.url}?failed` },
    });
    try {
      for (let i = 0; i < 2; i++) {
        await service.change({ action: 'trigger', taskId: id, actor: 'test', source: 'api' });
        await sleep(1_100);
      }
      await waitFor(
        async () => (hook.received.filter((a) => a.taskId === id).length >= 2 ? true : undefined),
        20_000,
        'callbacks',
      );
    } finally {
      await client.schedule.getHandle(id).delete();
    }
    const callbacks = hook.received.filter((a) => a.taskId === id) as unknown as (ReceivedAlert & {
      status: string;
      attempts: number;
      durationMs: number;
      nominalTime: string;
      result?: unknown;
      error?: string;
    })[];
    assert.deepEqual(
      callbacks.map((c) => c.status),
      ['succeeded', 'failed'],
    );
    assert.ok(callbacks.every((c) => c.signed && c.attempts === 1 && typeof c.durationMs === 'number'));
    assert.equal(callbacks[0]?.result, 'ok');
    assert.match(String(callbacks[1]?.error), /scripted failure/);
    const text = await metrics.registry.metrics();
    assert.match(text, new RegExp(`surecron_task_runs_total\\{task="${id}",outcome="succeeded"\\} 1`));
    assert.match(text, new RegExp(`surecron_task_runs_total\\{task="${id}",outcome="failed"\\} 1`));
    assert.match(text, new RegExp(`surecron_task_attempts_total\\{task="${id}"\\} 2`));
    assert.match(text, new RegExp(`surecron_task_start_lateness_seconds_count\\{task="${id}"\\} 2`));
  });
});
