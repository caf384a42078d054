/**
 * surecron on a real Temporal cluster (`npm run test:cluster`): PostgreSQL, three server nodes, HAProxy, two
 * supervised workers and the API, exactly as `npm run cluster` starts them. Tasks fire every second into an
 * independent HTTP sink while the scenarios `kill -9` a node (then another), PostgreSQL, a worker, the API and the
 * load balancer, each found by its pid in `cluster.json` as an outside script would. After each scenario every
 * fire of its window must have run exactly once: by the ledger (one run per nominal time, none missed) and by the
 * sink (every idempotency key arrived, never more often than the run's attempts). Figures go to
 * test-results/cluster.json.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium } from 'playwright-core';
import { pino } from 'pino';
import { startCluster, type Cluster } from '../../src/cluster/cluster.js';
import type { ClusterProcessEntry } from '../../src/cluster/supervisor.js';
import { loadConfig, type Config } from '../../src/config.js';
import { freePort } from '../../src/util/ports.js';
import { waitFor } from '../../src/util/wait.js';
import { sleep } from '../helpers/time.js';

const TASKS = 8;
const root = new URL('../../', import.meta.url).pathname;
const second = (t: number): number => Math.floor(t / 1000) * 1000;
/** A nominal time as surecron writes it in keys and workflow ids: ISO 8601 to the second. */
const nominalIso = (t: number): string => new Date(t).toISOString().replace('.000Z', 'Z');

/** Every request the sink got: key → receive times. */
const received = new Map<string, number[]>();
let sink: Server;
let sinkUrl: string;
let cluster: Cluster;
let config: Config;
let workDir: string;
const taskIds = Array.from({ length: TASKS }, (_, i) => `cluster-${process.pid}-${i}`);
const figures: Record<string, unknown> = {};

async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const response = await fetch(`${cluster.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${cluster.token.token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
}

function entries(): ClusterProcessEntry[] {
  return (JSON.parse(readFileSync(cluster.clusterFile, 'utf8')) as { processes: ClusterProcessEntry[] }).processes;
}

function entry(name: string): ClusterProcessEntry {
  const found = entries().find((e) => e.name === name);
  assert.ok(found, `${name} is in cluster.json`);
  return found;
}

/** `kill -9` of a process by its pid in cluster.json; resolves once the supervisor has started it again. */
async function killAndAwaitRestart(name: string): Promise<{ downMs: number; oldPid: number; newPid: number }> {
  const { pid } = entry(name);
  assert.ok(pid, `${name} runs`);
  const killedAt = Date.now();
  process.kill(pid, 'SIGKILL');
  for (;;) {
    const now = entry(name);
    if (now.pid && now.pid !== pid) return { downMs: Date.now() - killedAt, oldPid: pid, newPid: now.pid };
    assert.ok(Date.now() - killedAt < 60_000, `${name} restarted within 60 s`);
    await sleep(100);
  }
}

interface Ledger {
  items: { nominalTime: string; outcome: string; attempts?: number }[];
  summary: { expected: number; succeeded: number; missed: number; duplicates: number };
}

/**
 * Waits until every task's fires in (from, to] reached the sink, then checks them against the ledger: each fire
 * ran once and succeeded, the sink holds its key, never more often than that run's attempts (plus a local attempt a
 * killed worker's workflow task ran again). Returns lateness figures (first arrival at the sink − nominal time).
 */
async function everyFireOnce(label: string, from: number, to: number, waitMs = 180_000) {
  const nominal: number[] = [];
  for (let t = second(from) + 1000; t <= to; t += 1000) nominal.push(t);
  const keys = taskIds.flatMap((id) => nominal.map((t) => `${id}@${nominalIso(t)}`));
  const deadline = Date.now() + waitMs;
  while (keys.some((key) => !received.has(key)) && Date.now() < deadline) await sleep(500);
  const missing = keys.filter((key) => !received.has(key));
  assert.deepEqual(
    missing.slice(0, 5),
    [],
    `${label}: ${missing.length} of ${keys.length} fires never reached the sink`,
  );

  await sleep(3_000); // visibility is eventually consistent
  let duplicatesAtSink = 0;
  for (const id of taskIds) {
    const query = `from=${new Date(from + 1).toISOString()}&to=${new Date(to + 1).toISOString()}`;
    const { status, body } = await api<Ledger>('GET', `/v1/tasks/${id}/ledger?${query}`);
    assert.equal(status, 200);
    assert.equal(body.summary.expected, nominal.length, `${label}: ${id} expected fires`);
    assert.equal(body.summary.duplicates, 0, `${label}: ${id} ran no fire twice`);
    assert.equal(body.summary.missed, 0, `${label}: ${id} missed no fire`);
    assert.equal(body.summary.succeeded, nominal.length, `${label}: ${id} every fire succeeded`);
    for (const item of body.items) {
      const arrivals = received.get(`${id}@${item.nominalTime}`)?.length ?? 0;
      // The tasks' first attempts run locally (10 s attempts): a worker killed during one makes its workflow task
      // run again elsewhere, and the local attempt with it, under the same number (README, "A lost attempt").
      assert.ok(
        arrivals <= (item.attempts ?? 1) + 1,
        `${label}: ${id}@${item.nominalTime} reached the sink once per attempt`,
      );
      duplicatesAtSink += arrivals - 1;
    }
  }
  const lateness = keys.map((key) => (received.get(key)?.[0] ?? 0) - Date.parse(key.slice(key.indexOf('@') + 1)));
  lateness.sort((a, b) => a - b);
  const pick = (q: number): number => lateness[Math.min(lateness.length - 1, Math.floor(q * lateness.length))] ?? 0;
  const result = {
    fires: keys.length,
    retriedAtSink: duplicatesAtSink,
    latenessMs: { p50: pick(0.5), p99: pick(0.99), max: lateness.at(-1) ?? 0 },
    laterThan2s: lateness.filter((ms) => ms > 2_000).length,
  };
  figures[label] = { ...(figures[label] as object), ...result };
  return result;
}

/**
 * One chaos scenario: tasks fire for 5 s, `faults` injects the failures (returning their figures), `settleMs` more
 * pass, then every fire of the whole window must have run once (`everyFireOnce`).
 */
async function underFire(label: string, faults: () => Promise<Record<string, unknown>>, settleMs: number) {
  const from = Date.now();
  await sleep(5_000);
  figures[label] = await faults();
  await sleep(settleMs);
  return everyFireOnce(label, from, second(Date.now()) - 1000);
}

before(async () => {
  // The browser check needs Debian's chromium (the cluster itself installs PostgreSQL and HAProxy when missing).
  spawnSync('bash', [join(root, 'scripts/install-debian-packages.sh'), 'chromium'], { stdio: 'inherit' });
  received.clear();
  sink = createServer((request, response) => {
    const key = request.headers['idempotency-key'];
    if (typeof key === 'string') received.set(key, [...(received.get(key) ?? []), Date.now()]);
    request.resume();
    request.on('end', () => response.writeHead(204).end());
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const address = sink.address();
  sinkUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/fire`;

  workDir = mkdtempSync(join(tmpdir(), 'surecron-cluster-test-'));
  // PostgreSQL runs as its own user when the tests run as root: it must be able to pass through this folder.
  chmodSync(workDir, 0o711);
  config = loadConfig({
    SURECRON_DATA_DIR: workDir,
    SURECRON_CLUSTER_NODES: '3',
    SURECRON_CLUSTER_WORKERS: '2',
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    SURECRON_API_PORT: String(await freePort()),
    SURECRON_HTTP_ALLOWLIST: '127.0.0.1',
    SURECRON_API_RATE_LIMIT: '100000',
  });
  const started = Date.now();
  cluster = await startCluster(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }));
  figures.startupMs = Date.now() - started;

  for (const id of taskIds) {
    const { status } = await api('POST', '/v1/tasks', {
      id,
      schedule: { every: '1s' },
      handler: { type: 'http', url: sinkUrl, method: 'POST' },
      retry: { maxAttempts: 10, initialInterval: '1s' },
      timeouts: { attempt: '10s' },
      // Every fire is its own run, also when an outage's catch-up makes many due at once.
      overlap: 'allow_all',
      catchupWindow: '10m',
    });
    assert.equal(status, 201, `task ${id} created`);
  }
});

after(async () => {
  await cluster?.stop();
  await new Promise((resolve) => sink?.close(resolve));
  const left = cluster ? entries().filter((e) => e.pid !== null) : [];
  mkdirSync(join(root, 'test-results'), { recursive: true });
  writeFileSync(join(root, 'test-results', 'cluster.json'), `${JSON.stringify(figures, null, 2)}\n`);
  if (workDir) rmSync(workDir, { recursive: true, force: true });
  assert.deepEqual(left, [], 'every cluster process stopped');
});

describe('surecron on a 3-node Temporal cluster', { timeout: 1_500_000 }, () => {
  it('comes up: every node joined, a worker polls, the example schedules are there, the Web UI answers', async () => {
    const ready = await fetch(`${cluster.apiUrl}/readyz`);
    const body = (await ready.json()) as { checks: Record<string, string> };
    assert.equal(ready.status, 200, JSON.stringify(body));
    assert.equal(body.checks.cluster, 'ok (3/3 nodes joined)');
    assert.deepEqual((await cluster.joined()).sort(), ['temporal-1', 'temporal-2', 'temporal-3']);
    const roles = entries().map((e) => e.role);
    assert.deepEqual(
      [...new Set(roles)].sort(),
      ['api', 'lb', 'postgres', 'temporal', 'ui', 'worker'],
      'cluster.json lists every role',
    );
    assert.equal(roles.filter((role) => role === 'temporal').length, 3);
    assert.equal(roles.filter((role) => role === 'worker').length, 2);
    const { body: task } = await api<{ id: string; source: string }>('GET', '/v1/tasks/example.heartbeat');
    assert.equal(task.source, 'code', 'the tasks declared in code were applied');
    const ui = await fetch(`${cluster.uiUrl}/api/v1/namespaces/default/schedules`);
    assert.equal(ui.status, 200, 'the Web UI server reaches the cluster');
    const schedules = (await ui.json()) as { schedules?: { scheduleId: string }[] };
    assert.ok(
      schedules.schedules?.some((s) => s.scheduleId === 'example.heartbeat'),
      'the UI lists example.heartbeat',
    );

    // What a person sees: Debian's chromium opens the schedules page of the cluster's Web UI.
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'].concat([
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ]),
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.setDefaultTimeout(30_000);
      await page.goto(`${cluster.uiUrl}/namespaces/default/schedules`, { waitUntil: 'domcontentloaded' });
      await page.getByRole('link', { name: 'example.heartbeat', exact: true }).first().waitFor();
      mkdirSync(join(root, 'test-results'), { recursive: true });
      await page.screenshot({ path: join(root, 'test-results', 'cluster-web-ui-schedules.png') });
    } finally {
      await browser.close();
    }
  });

  it('fires every task every second across the cluster, each fire once', async () => {
    const result = await underFire('steady', async () => ({}), 10_000);
    assert.ok(result.latenessMs.p99 < 3_000, `p99 lateness ${result.latenessMs.p99} ms`);
  });

  it('loses and doubles no fire when a Temporal node is killed, then another', async () => {
    await underFire(
      'node kills',
      async () => {
        const first = await killAndAwaitRestart('temporal-1');
        await sleep(20_000);
        const secondKill = await killAndAwaitRestart('temporal-2');
        return { restartMs: [first.downMs, secondKill.downMs] };
      },
      20_000,
    );
    assert.deepEqual((await cluster.joined()).sort(), ['temporal-1', 'temporal-2', 'temporal-3'], 'both rejoined');
  });

  it('catches up every fire of a PostgreSQL outage and loses nothing acknowledged', async () => {
    const acknowledged = `cluster-${process.pid}-acked`;
    const created = await api('POST', '/v1/tasks', {
      id: acknowledged,
      schedule: { every: '1h' },
      handler: { type: 'http', url: sinkUrl },
    });
    assert.equal(created.status, 201);
    await underFire(
      'postgres kill',
      async () => ({ restartMs: (await killAndAwaitRestart('postgres')).downMs }),
      25_000,
    );
    const { status } = await api('GET', `/v1/tasks/${acknowledged}`);
    assert.equal(status, 200, 'a task created before the kill is still there');
    assert.equal((await api('DELETE', `/v1/tasks/${acknowledged}`)).status, 204);
  });

  it('keeps firing when a worker and the API are killed', async () => {
    await underFire(
      'worker and api kills',
      async () => {
        const worker = await killAndAwaitRestart('worker-1');
        await sleep(5_000);
        const apiKill = await killAndAwaitRestart('api');
        const live = async (): Promise<true | undefined> =>
          (await fetch(`${cluster.apiUrl}/livez`).catch(() => undefined))?.ok ? true : undefined;
        await waitFor(live, 60_000, 'the restarted API answering');
        return { workerRestartMs: worker.downMs, apiRestartMs: apiKill.downMs };
      },
      15_000,
    );
  });

  it('reconnects every client by itself when the load balancer restarts', async () => {
    await underFire('lb restart', async () => ({ restartMs: (await killAndAwaitRestart('haproxy')).downMs }), 20_000);
    const { status } = await api('GET', `/v1/tasks/${taskIds[0]}`);
    assert.equal(status, 200, 'the API reaches Temporal through the new load balancer');
  });

  it('stops everything, and a second start on the same data finds every schedule and all history', async () => {
    const before = second(Date.now()) - 1000;
    const history = `from=${new Date(before - 10_000 + 1).toISOString()}&to=${new Date(before + 1).toISOString()}`;
    // Restarts the supervisor made beyond the ones the scenarios asked for (a node that died with PostgreSQL, say).
    figures.restarts = Object.fromEntries(entries().map((e) => [e.name, e.restarts]));
    const pids = entries().map((e) => e.pid as number);
    const stopped = Date.now();
    await cluster.stop();
    figures['stop'] = { stopMs: Date.now() - stopped };
    const alive = pids.filter((pid) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual(alive, [], 'no process of the cluster outlives its stop');
    const restarted = Date.now();
    cluster = await startCluster(config, pino({ level: process.env.TEST_LOG_LEVEL ?? 'warn' }));
    figures['second start'] = { startupMs: Date.now() - restarted };
    for (const id of taskIds) {
      const { status } = await api('GET', `/v1/tasks/${id}`);
      assert.equal(status, 200, `${id} is still there`);
      const { body } = await api<Ledger>('GET', `/v1/tasks/${id}/ledger?${history}`);
      assert.equal(body.summary.succeeded, 10, `${id}: the runs of the 10 s before the stop are still in its history`);
    }
    await underFire('after second start', async () => ({}), 5_000);
  });
});
