import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { listAudit, type AuditEntry } from '../../src/tasks/audit.js';
import { TaskNotFoundError } from '../../src/tasks/errors.js';
import { specHash } from '../../src/tasks/schedule.js';
import { taskSpecSchema, type TaskSpec } from '../../src/tasks/spec.js';
import type { StoredTask } from '../../src/tasks/store.js';
import { testClient, testStore, waitFor } from '../helpers/temporal.js';
import { workDir } from '../helpers/dirs.js';
import { freePort } from '../helpers/ports.js';
import { sleep } from '../helpers/time.js';
import {
  ApiProcess,
  ChaosServer,
  countWorkflows,
  full,
  killAll,
  recordFigures,
  scale,
  seconds,
  uniqueId,
  WorkerPool,
} from './chaos-lib.js';

/**
 * The API runs as its own process and is `kill -9`ed in the middle of a storm of concurrent `POST /v1/tasks`.
 * Afterwards every task id that was attempted is either fully there (schedule AND exactly one audited create
 * with the same spec) or not there at all; no audit entry exists without its schedule.
 */
const settings = full
  ? { creates: 200, concurrency: 16, killAfter: [30, 70, 110, 150] }
  : { creates: 40, concurrency: 10, killAfter: [15] };

async function allAudit(client: Client, query: { taskId?: string; taskQueue?: string }): Promise<AuditEntry[]> {
  const entries: AuditEntry[] = [];
  let pageToken: string | undefined;
  do {
    const page = await listAudit(client, { ...query, pageSize: 1000, pageToken });
    entries.push(...page.items);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return entries;
}

describe(`chaos: API process killed during a storm of creates (${scale})`, () => {
  after(killAll);

  it('no half-created task: schedule and one audited create, or neither', { timeout: 290_000 }, async (t) => {
    const dir = workDir('chaos-api-kill');
    const server = await ChaosServer.start(dir);
    const taskQueue = uniqueId('tq');
    const pool = new WorkerPool(
      WorkerPool.env(() => server.address, taskQueue, WorkerPool.files(dir), 50),
      true,
    );
    const api = new ApiProcess(await freePort(), `chaos-token-${uniqueId('x')}`, () => ({
      TEMPORAL_ADDRESS: server.address,
      SURECRON_TASK_QUEUE: taskQueue,
    }));
    let client: Client | undefined;
    try {
      const began = Date.now();
      await Promise.all([pool.start(1), api.start()]);
      client = await testClient(server.address);
      const prefix = uniqueId('chaos-api');
      const bodies = Array.from({ length: settings.creates }, (_, i) => ({
        id: `${prefix}-${i}`,
        description: `storm create ${i}`,
        schedule: { cron: '0 0 1 1 *' },
        handler: { type: 'function', name: 'heartbeat', input: { i } },
        tags: { chaos: 'api-kill' },
      }));

      const outcomes = new Map<string, { status?: number; error?: string }>();
      const inflight = new Set<string>();
      const kills: { at: number; inflight: number; restartMs: number }[] = [];
      const killAfter = [...settings.killAfter];
      const killing: Promise<void>[] = [];
      let up: Promise<void> = Promise.resolve();
      let next = 0;
      const stormStart = Date.now();
      // The lanes keep sending while a kill waits for its moment, so the kill lands on requests under way
      // however fast the API answers; only the restart itself holds them back.
      const killSoon = async (): Promise<void> => {
        await sleep(20 + Math.random() * 80);
        const at = Date.now();
        const during = inflight.size;
        let restarted!: () => void;
        up = new Promise<void>((resolve) => (restarted = resolve));
        try {
          api.kill();
          await sleep(300);
          kills.push({ at, inflight: during, restartMs: await api.start() });
        } finally {
          restarted();
        }
      };
      const lane = async (): Promise<void> => {
        for (;;) {
          await up;
          const index = next++;
          const body = bodies[index];
          if (!body) return;
          if (killAfter[0] !== undefined && index >= killAfter[0]) {
            killAfter.shift();
            killing.push(killSoon());
          }
          inflight.add(body.id);
          try {
            const { status } = await api.request('POST', '/v1/tasks', body);
            outcomes.set(body.id, { status });
          } catch (error) {
            const cause = (error as { cause?: { code?: string; message?: string } }).cause;
            outcomes.set(body.id, { error: cause?.code ?? cause?.message ?? (error as Error).message });
          } finally {
            inflight.delete(body.id);
          }
        }
      };
      await Promise.all(Array.from({ length: settings.concurrency }, lane));
      await Promise.all(killing);
      const stormMs = Date.now() - stormStart;

      // Changes the dead API had started finish on their own (they are workflows); wait for them.
      const c = client;
      await waitFor(
        async () =>
          (await countWorkflows(
            c,
            `WorkflowType = 'taskChange' AND ExecutionStatus = 'Running' AND TaskQueue = '${taskQueue}'`,
          )) === 0
            ? true
            : undefined,
        60_000,
        'in-flight task changes to finish',
      );
      await sleep(1_000);

      const store = testStore(client, taskQueue);
      const verdicts = await Promise.all(
        bodies.map(async (body) => {
          const stored: StoredTask | undefined = await store.get(body.id).catch((error: unknown) => {
            if (error instanceof TaskNotFoundError) return undefined;
            throw error;
          });
          const entries = await allAudit(c, { taskId: body.id });
          const creates = entries.filter((e) => e.action === 'create');
          const sent = specHash(taskSpecSchema.parse(body));
          const outcome = outcomes.get(body.id) ?? {};
          let verdict: 'created' | 'neither' | 'half';
          if (
            stored &&
            entries.length === 1 &&
            creates.length === 1 &&
            specHash(creates[0]!.after as TaskSpec) === stored.specHash &&
            stored.specHash === sent
          )
            verdict = 'created';
          else if (!stored && entries.length === 0) verdict = 'neither';
          else verdict = 'half';
          return { id: body.id, verdict, exists: !!stored, auditEntries: entries.length, ...outcome };
        }),
      );
      const queueAudit = await allAudit(c, { taskQueue });
      const existing = new Set(verdicts.filter((v) => v.exists).map((v) => v.id));
      const orphanAudit = queueAudit.filter((e) => e.action !== 'delete' && !existing.has(e.taskId));
      const failedChanges = await countWorkflows(
        c,
        `WorkflowType = 'taskChange' AND ExecutionStatus != 'Completed' AND TaskQueue = '${taskQueue}'`,
      );
      const by = (f: (v: (typeof verdicts)[number]) => boolean): number => verdicts.filter(f).length;
      const figures = {
        attempted: bodies.length,
        concurrency: settings.concurrency,
        faultsInjected: kills.length,
        kills: kills.map((k) => ({
          at: new Date(k.at).toISOString(),
          requestsInFlight: k.inflight,
          apiRestartMs: k.restartMs,
        })),
        responses: {
          created201: by((v) => v.status === 201),
          otherStatus: by((v) => v.status !== undefined && v.status !== 201),
          connectionErrors: by((v) => v.error !== undefined),
        },
        final: {
          created: by((v) => v.verdict === 'created'),
          createdThoughRequestFailed: by((v) => v.verdict === 'created' && v.status !== 201),
          neither: by((v) => v.verdict === 'neither'),
          halfCreated: by((v) => v.verdict === 'half'),
          orphanAuditEntries: orphanAudit.length,
          taskChangesNotCompleted: failedChanges,
        },
        acknowledgedLost: by((v) => v.status === 201 && v.verdict !== 'created'),
        maxRecoveryMs: Math.max(...kills.map((k) => k.restartMs)),
        stormSeconds: seconds(stormMs),
        createsPerSecond: Math.round((bodies.length / stormMs) * 10_000) / 10,
        durationSeconds: seconds(Date.now() - began),
      };
      recordFigures(t, 'api-kill', figures);

      assert.equal(kills.length, settings.killAfter.length, 'every planned kill happened');
      assert.ok(
        kills.some((k) => k.inflight > 0),
        'at least one kill hit requests in flight',
      );
      assert.ok(figures.responses.connectionErrors > 0, 'some requests died with the API');
      const half = verdicts.filter((v) => v.verdict === 'half');
      assert.deepEqual(half, [], 'no half-created task');
      assert.deepEqual(orphanAudit, [], 'no audit entry without its schedule');
      assert.equal(figures.acknowledgedLost, 0, 'every 201 is a complete task');
      for (const v of verdicts)
        if (v.status !== undefined && v.status !== 201) assert.fail(`${v.id} answered ${v.status}`);
    } finally {
      api.kill();
      pool.stop();
      await client?.connection.close();
      await server.stop();
    }
  });
});
