import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../helpers/ports.js';
import { alive, launchEntryPoint, npmStartEnv, stopProcess, type Spawned } from '../helpers/processes.js';
import { testClient, uniqueId, waitFor } from '../helpers/temporal.js';

async function getJson<T>(url: string, token?: string): Promise<{ status: number; body: T }> {
  const response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: response.status, body: (await response.json()) as T };
}

interface RunsPage {
  items: { workflowId: string; status: string; nominalTime: string }[];
}

describe('npm start: the embedded all-in-one mode', () => {
  it('starts a persistent dev server, applies the example task, runs it, shuts down cleanly and keeps everything across a restart', async (t) => {
    const cli = process.env.SURECRON_TEST_TEMPORAL_CLI;
    assert.ok(cli, 'npm test provides the Temporal CLI');
    const dataDir = mkdtempSync(join(tmpdir(), 'surecron-embedded-'));
    const { apiPort, temporalPort, uiPort, env } = await npmStartEnv(cli, dataDir);
    const api = `http://127.0.0.1:${apiPort}`;
    const ready = (): Promise<true | undefined> =>
      fetch(`${api}/readyz`).then((r) => (r.status === 200 ? true : undefined));

    const started = Date.now();
    let app = launchEntryPoint('src/main.ts', env);
    let firstRun: string;
    let serverPid: number;
    try {
      await waitFor(ready, 90_000, `/readyz (output: ${app.output().slice(-500)})`);
      t.diagnostic(`ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      assert.match(app.output(), new RegExp(`Web UI +http://127\\.0\\.0\\.1:${uiPort}/namespaces/default/schedules`));
      assert.match(app.output(), new RegExp(`API docs +${api}/docs`));
      const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
      assert.ok(token.length >= 24, 'a token was generated into the data dir');
      assert.ok(app.output().includes(token), 'the new token is printed once');
      assert.equal((await fetch(`${api}/v1/tasks`)).status, 401, 'the API never runs without auth');
      const tasks = await getJson<{ items: { id: string; source: string }[] }>(`${api}/v1/tasks`, token);
      assert.ok(tasks.body.items.some((task) => task.id === 'example.heartbeat' && task.source === 'code'));
      const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
      assert.equal(ui.status, 200, 'the Web UI answers');
      const runs = await waitFor(
        async () => {
          const page = await getJson<RunsPage>(`${api}/v1/tasks/example.heartbeat/runs`, token);
          return page.body.items.find((run) => run.status === 'succeeded');
        },
        25_000,
        'a succeeded heartbeat run',
      );
      firstRun = runs.workflowId;
      assert.equal(firstRun, `example.heartbeat-${runs.nominalTime}`);
      const temporal = await testClient(`127.0.0.1:${temporalPort}`);
      const namespace = await temporal.workflowService.describeNamespace({ namespace: 'default' });
      await temporal.connection.close();
      assert.equal(
        Number(namespace.config?.workflowExecutionRetentionTtl?.seconds),
        90 * 86_400,
        'runs are kept 90 days',
      );
      serverPid = Number(readFileSync(join(dataDir, 'temporal.pid'), 'utf8'));
      assert.ok(alive(serverPid), 'the dev server runs as a child');
      // SQLite's header says 2 in its read and write version bytes for a write-ahead-logged database.
      const header = readFileSync(join(dataDir, 'temporal.db')).subarray(18, 20);
      assert.deepEqual([...header], [2, 2], 'the database is in WAL mode');
    } finally {
      const code = await stopProcess(app);
      assert.equal(code, 0, `graceful exit (output: ${app.output().slice(-800)})`);
    }
    assert.equal(alive(serverPid), false, 'no orphan dev server after shutdown');
    assert.equal(existsSync(join(dataDir, 'temporal.pid')), false);

    app = launchEntryPoint('src/main.ts', env);
    try {
      await waitFor(ready, 90_000, `/readyz after restart (output: ${app.output().slice(-500)})`);
      const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
      assert.ok(!app.output().includes(token), 'an existing token is not printed again');
      const page = await getJson<RunsPage>(`${api}/v1/tasks/example.heartbeat/runs?pageSize=100`, token);
      assert.ok(
        page.body.items.some((run) => run.workflowId === firstRun && run.status === 'succeeded'),
        'history from before the restart is still there',
      );
    } finally {
      assert.equal(await stopProcess(app), 0);
    }
  });

  it('start:worker and start:api run as separate production processes against a cluster', async () => {
    const address = process.env.TEMPORAL_ADDRESS;
    assert.ok(address);
    const apiPort = await freePort();
    const env = {
      TEMPORAL_ADDRESS: address,
      SURECRON_TASK_QUEUE: uniqueId('prod-tq'),
      SURECRON_API_PORT: String(apiPort),
      SURECRON_API_TOKEN: 'a-production-token-0123456789',
      SURECRON_WORKFLOW_BUNDLE: process.env.SURECRON_TEST_BUNDLE,
    };
    const apiProcess = launchEntryPoint('src/api-server.ts', env);
    let workerProcess: Spawned | undefined;
    try {
      const readyz = (): Promise<number> => fetch(`http://127.0.0.1:${apiPort}/readyz`).then((r) => r.status);
      await waitFor(
        async () => ((await readyz()) === 503 ? true : undefined),
        30_000,
        'API up, not ready without a worker',
      );
      workerProcess = launchEntryPoint('src/worker.ts', env);
      await waitFor(async () => ((await readyz()) === 200 ? true : undefined), 60_000, 'ready once the worker polls');
    } finally {
      // Both are stopped before either exit code is judged, so a failed assertion leaves no process behind.
      const workerCode = workerProcess ? await stopProcess(workerProcess) : 0;
      const apiCode = await stopProcess(apiProcess);
      assert.equal(workerCode, 0, workerProcess?.output().slice(-500));
      assert.equal(apiCode, 0, apiProcess.output().slice(-500));
    }
  });
});
