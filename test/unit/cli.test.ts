/**
 * The `surecron` CLI against a fake API: each case runs the CLI as a subprocess (stdin and stdout are pipes, not
 * terminals) pointed at a local HTTP server that records requests and answers with canned contract responses.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { listenLocal } from '../helpers/http.js';
import { spawnProcess } from '../helpers/processes.js';

const token = 'test-token';
const dir = mkdtempSync(join(tmpdir(), 'surecron-cli-'));

interface Recorded {
  method: string;
  /** Path and query, as sent. */
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}

interface Canned {
  status: number;
  body?: unknown;
  contentType?: string;
}

interface FakeApi {
  url: string;
  requests: Recorded[];
  close(): Promise<void>;
}

async function readBody(request: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

/** Starts a fake API answering every request with `answer(request)`. */
async function fakeApi(answer: (request: Recorded) => Canned): Promise<FakeApi> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((body) => {
      const recorded: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body,
      };
      requests.push(recorded);
      const canned = answer(recorded);
      const type = canned.contentType ?? 'application/json';
      res.writeHead(canned.status, canned.body === undefined ? {} : { 'content-type': type });
      res.end(canned.body === undefined ? undefined : JSON.stringify(canned.body));
    });
  });
  const { origin, close } = await listenLocal(server);
  return { url: origin, requests, close };
}

/** Runs `body` against a fake API answering every request with `canned`, and closes the API afterwards. */
async function withFakeApi<T>(canned: Canned, body: (api: FakeApi) => Promise<T>): Promise<T> {
  const api = await fakeApi(() => canned);
  try {
    return await body(api);
  } finally {
    await api.close();
  }
}

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Non-empty stderr lines. */
  errLines: string[];
}

/** Runs the CLI with SURECRON_URL/SURECRON_TOKEN set; stdin is an (empty) pipe. */
async function cli(url: string, args: string[], entry = ['--import', 'tsx', 'src/cli/main.ts']): Promise<CliResult> {
  const child = spawnProcess(process.execPath, [...entry, ...args], {
    env: { SURECRON_URL: url, SURECRON_TOKEN: token, NO_COLOR: '1' },
    stdin: '',
  });
  const code = await child.closed;
  const stderr = child.stderr();
  return { code, stdout: child.stdout(), stderr, errLines: stderr.split('\n').filter(Boolean) };
}

/** Runs one command against a fake API answering `canned`, returning the result and the single request. */
async function call(args: string[], canned: Canned): Promise<CliResult & { request: Recorded }> {
  return withFakeApi(canned, async (api) => {
    const result = await cli(api.url, args);
    assert.equal(api.requests.length, 1, `expected one request; stderr: ${result.stderr}`);
    return { ...result, request: api.requests[0]! };
  });
}

function assertRequest(request: Recorded, method: string, url: string, body?: unknown): void {
  assert.equal(request.method, method);
  assert.equal(request.url, url);
  assert.equal(request.authorization, `Bearer ${token}`);
  assert.deepEqual(request.body, body);
  if (body !== undefined) assert.equal(request.contentType, 'application/json');
}

/** Runs a command that must be refused before any request: a non-zero exit and one stderr line matching `reason`. */
async function assertRefusedLocally(args: string[], reason: RegExp): Promise<void> {
  const api = await fakeApi(() => ({ status: 202, body: {} }));
  try {
    const bad = await cli(api.url, args);
    assert.notEqual(bad.code, 0);
    assert.equal(bad.errLines.length, 1, bad.stderr);
    assert.match(bad.errLines[0] ?? '', reason);
    assert.equal(api.requests.length, 0);
  } finally {
    await api.close();
  }
}

function assertOk(result: CliResult): void {
  assert.equal(result.code, 0, `exit ${result.code}; stderr: ${result.stderr}`);
}

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const run = {
  workflowId: 'nightly-report/2026-03-01T09:00:00Z',
  runId: 'run-1',
  nominalTime: '2026-03-01T09:00:00Z',
  startedAt: '2026-03-01T09:00:01.000Z',
  closedAt: '2026-03-01T09:00:05.000Z',
  status: 'succeeded',
  attempts: 1,
  trigger: 'schedule',
};

const spec = {
  id: 'nightly-report',
  description: 'the nightly report',
  tags: { team: 'ops' },
  schedule: { cron: '0 9 * * *', timezone: 'Europe/Paris' },
  handler: { type: 'http', url: 'https://example.com/hook', method: 'POST' },
};

const task = {
  id: 'nightly-report',
  spec: { ...spec, overlap: 'skip', pauseOnFailure: false, paused: false },
  source: 'api',
  state: { paused: false, note: '' },
  nextRuns: ['2026-03-02T08:00:00.000Z'],
  recentRuns: [run],
  counts: { taken: 3, missedCatchup: 0, skippedOverlap: 1 },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-02-01T00:00:00.000Z',
};

const otherTask = {
  ...task,
  id: 'hourly-sync',
  spec: { ...task.spec, id: 'hourly-sync', schedule: { every: '1h' } },
  source: 'code',
  state: { paused: true, note: 'maintenance' },
  recentRuns: [],
};

after(() => rmSync(dir, { recursive: true, force: true }));

describe('surecron CLI', () => {
  describe('tasks', { concurrency: 4 }, () => {
    it('list: GET /v1/tasks with filters, plain table listing the ids, next page hint on stderr', async () => {
      const page = { items: [task, otherTask], nextPageToken: 'tok2' };
      const result = await call(
        ['tasks', 'list', '--tag', 'team=ops', '--paused', 'false', '--page-size', '50', '--page-token', 'tok1'],
        { status: 200, body: page },
      );
      assertOk(result);
      assertRequest(result.request, 'GET', '/v1/tasks?tag=team%3Dops&paused=false&pageSize=50&pageToken=tok1');
      assert.match(result.stdout, /^ID\s+SCHEDULE/);
      assert.match(result.stdout, /nightly-report/);
      assert.match(result.stdout, /hourly-sync/);
      assert.doesNotMatch(result.stdout, /[│┌─]/, 'no box drawing when stdout is not a terminal');
      assert.match(result.stderr, /--page-token tok2/);
    });

    it('list --json prints the response body', async () => {
      const page = { items: [task] };
      const result = await call(['tasks', 'list', '--json'], { status: 200, body: page });
      assertOk(result);
      assertRequest(result.request, 'GET', '/v1/tasks');
      assert.deepEqual(JSON.parse(result.stdout), page);
      assert.equal(result.stderr, '');
    });

    it('get: GET /v1/tasks/{id}', async () => {
      const json = await call(['--json', 'tasks', 'get', 'nightly-report'], { status: 200, body: task });
      assertOk(json);
      assertRequest(json.request, 'GET', '/v1/tasks/nightly-report');
      assert.deepEqual(JSON.parse(json.stdout), task);
      const human = await call(['tasks', 'get', 'nightly-report'], { status: 200, body: task });
      assertOk(human);
      assert.match(human.stdout, /nightly-report/);
      assert.match(human.stdout, /cron 0 9 \* \* \* \(Europe\/Paris\)/);
      assert.match(human.stdout, /Recent runs/);
    });

    it('create -f (YAML): POST /v1/tasks with the spec as written', async () => {
      const path = file(
        'create.yaml',
        [
          'id: nightly-report',
          'description: the nightly report',
          'tags: { team: ops }',
          'schedule:',
          "  cron: '0 9 * * *'",
          '  timezone: Europe/Paris',
          'handler:',
          '  type: http',
          '  url: https://example.com/hook',
          '  method: POST',
        ].join('\n'),
      );
      const result = await call(['tasks', 'create', '-f', path], { status: 201, body: task });
      assertOk(result);
      assertRequest(result.request, 'POST', '/v1/tasks', spec);
      assert.match(result.stdout, /created task nightly-report/);
    });

    it('update -f (JSON): PUT /v1/tasks/{id from the file}', async () => {
      const path = file('update.json', JSON.stringify(spec));
      const result = await call(['tasks', 'update', '-f', path, '--json'], { status: 200, body: task });
      assertOk(result);
      assertRequest(result.request, 'PUT', '/v1/tasks/nightly-report', spec);
      assert.deepEqual(JSON.parse(result.stdout), task);
    });

    it('apply -f --prune: POST /v1/apply with every spec', async () => {
      const specs = [
        spec,
        { id: 'hourly-sync', schedule: { every: '1h' }, handler: { type: 'function', name: 'sync' } },
      ];
      const path = file('apply.json', JSON.stringify(specs));
      const answer = {
        created: ['hourly-sync'],
        updated: ['nightly-report'],
        unchanged: [],
        deleted: ['old-task'],
        skipped: [{ id: 'code-task', reason: 'managed in code' }],
      };
      const json = await call(['tasks', 'apply', '-f', path, '--prune', '--json'], { status: 200, body: answer });
      assertOk(json);
      assertRequest(json.request, 'POST', '/v1/apply', { tasks: specs, prune: true });
      assert.deepEqual(JSON.parse(json.stdout), answer);
      const human = await call(['tasks', 'apply', '-f', path], { status: 200, body: answer });
      assertOk(human);
      assertRequest(human.request, 'POST', '/v1/apply', { tasks: specs });
      for (const id of ['hourly-sync', 'nightly-report', 'old-task', 'code-task', 'managed in code']) {
        assert.ok(human.stdout.includes(id), `${id} in ${human.stdout}`);
      }
    });

    it('pause --note and resume: POST /v1/tasks/{id}/pause|resume', async () => {
      const paused = { ...task, state: { paused: true, note: 'deploy' } };
      const pause = await call(['tasks', 'pause', 'nightly-report', '--note', 'deploy', '--json'], {
        status: 200,
        body: paused,
      });
      assertOk(pause);
      assertRequest(pause.request, 'POST', '/v1/tasks/nightly-report/pause', { note: 'deploy' });
      assert.deepEqual(JSON.parse(pause.stdout), paused);
      const resume = await call(['tasks', 'resume', 'nightly-report'], { status: 200, body: task });
      assertOk(resume);
      assertRequest(resume.request, 'POST', '/v1/tasks/nightly-report/resume', {});
      assert.match(resume.stdout, /resumed task nightly-report/);
    });

    it('trigger: POST /v1/tasks/{id}/trigger without a body', async () => {
      const answer = { workflowId: 'nightly-report/manual-1', runId: 'r-9' };
      const result = await call(['tasks', 'trigger', 'nightly-report'], { status: 202, body: answer });
      assertOk(result);
      assertRequest(result.request, 'POST', '/v1/tasks/nightly-report/trigger');
      assert.match(result.stdout, /nightly-report\/manual-1/);
      assert.match(result.stdout, /r-9/);
    });

    it('backfill: POST /v1/tasks/{id}/backfill, times normalised to UTC', async () => {
      const answer = { accepted: true, expected: 24 };
      const result = await call(
        [
          'tasks',
          'backfill',
          'nightly-report',
          '--from',
          '2026-01-01T00:00:00Z',
          '--to',
          '2026-01-02T01:00:00+01:00',
          '--overlap',
          'buffer_all',
          '--json',
        ],
        { status: 202, body: answer },
      );
      assertOk(result);
      assertRequest(result.request, 'POST', '/v1/tasks/nightly-report/backfill', {
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-02T00:00:00.000Z',
        overlap: 'buffer_all',
      });
      assert.deepEqual(JSON.parse(result.stdout), answer);
    });

    it('runs: GET /v1/tasks/{id}/runs with filters; table lists the runs', async () => {
      const page = { items: [run, { ...run, workflowId: 'nightly-report/failed-one', status: 'failed' }] };
      const result = await call(
        [
          'tasks',
          'runs',
          'nightly-report',
          '--status',
          'failed',
          '--from',
          '2026-03-01T00:00:00Z',
          '--to',
          '2026-03-02T00:00:00Z',
          '--page-size',
          '10',
        ],
        { status: 200, body: page },
      );
      assertOk(result);
      assertRequest(
        result.request,
        'GET',
        '/v1/tasks/nightly-report/runs?status=failed&from=2026-03-01T00%3A00%3A00Z&to=2026-03-02T00%3A00%3A00Z&pageSize=10',
      );
      assert.match(result.stdout, /nightly-report\/failed-one/);
      assert.match(result.stdout, /run-1|nightly-report\/2026-03-01T09:00:00Z/);
    });

    it('ledger: GET /v1/tasks/{id}/ledger?from&to', async () => {
      const ledger = {
        items: [
          { nominalTime: '2026-03-01T09:00:00Z', outcome: 'succeeded', workflowId: 'wf-a', attempts: 1 },
          { nominalTime: '2026-03-02T09:00:00Z', outcome: 'missed' },
        ],
        summary: { expected: 2, succeeded: 1, failed: 0, running: 0, skipped: 0, missed: 1, duplicates: 0 },
      };
      const args = [
        'tasks',
        'ledger',
        'nightly-report',
        '--from',
        '2026-03-01T00:00:00Z',
        '--to',
        '2026-03-03T00:00:00Z',
      ];
      const json = await call([...args, '--json'], { status: 200, body: ledger });
      assertOk(json);
      assertRequest(
        json.request,
        'GET',
        '/v1/tasks/nightly-report/ledger?from=2026-03-01T00%3A00%3A00Z&to=2026-03-03T00%3A00%3A00Z',
      );
      assert.deepEqual(JSON.parse(json.stdout), ledger);
      const human = await call(args, { status: 200, body: ledger });
      assert.match(human.stdout, /wf-a/);
      assert.match(human.stdout, /missed 1/);
    });

    it('explain: GET /v1/tasks/{id}/explain?at, the verdict, its evidence and the neighbours', async () => {
      const explained = {
        taskId: 'nightly-report',
        at: '2026-03-01T09:00:30.000Z',
        verdict: 'not_a_fire_time',
        summary: 'not a fire time of the spec then in force',
        evidence: { previous: '2026-03-01T09:00:00Z', specVersion: { version: 2, setBy: { actor: 'alice' } } },
        neighbours: [
          {
            nominalTime: '2026-03-01T09:00:00Z',
            verdict: 'paused',
            summary: 'the task was paused by bob',
            evidence: { pause: { by: 'bob', note: 'ERP maintenance' } },
          },
        ],
      };
      const args = ['tasks', 'explain', 'nightly-report', '--at', '2026-03-01T09:00:30Z'];
      const json = await call([...args, '--json'], { status: 200, body: explained });
      assertOk(json);
      assertRequest(json.request, 'GET', '/v1/tasks/nightly-report/explain?at=2026-03-01T09%3A00%3A30Z');
      assert.deepEqual(JSON.parse(json.stdout), explained);
      const human = await call(args, { status: 200, body: explained });
      assert.match(human.stdout, /not_a_fire_time/);
      assert.match(human.stdout, /version: 2/);
      assert.match(human.stdout, /actor: alice/);
      assert.match(human.stdout, /2026-03-01T09:00:00Z {2}paused/);
      assert.match(human.stdout, /note: ERP maintenance/);
      await withFakeApi({ status: 500 }, async (api) => {
        const usage = await cli(api.url, ['tasks', 'explain', 'nightly-report', '--at', 'yesterday']);
        assert.equal(usage.code, 2, usage.stderr);
        assert.equal(api.requests.length, 0);
      });
    });
  });

  describe('dead-letters', { concurrency: 4 }, () => {
    const letter = {
      ...run,
      status: 'failed',
      taskId: 'nightly-report',
      errorType: 'UpstreamError',
      error: 'task nightly-report failed at 2026-03-01T09:00:00Z: upstream answered 503',
    };

    it('dead-letters list --task --error-type: GET /v1/dead-letters, a table of task, nominal time and error', async () => {
      const result = await call(['dead-letters', 'list', '--task', 'nightly-report', '--error-type', 'UpstreamError'], {
        status: 200,
        body: { items: [letter] },
      });
      assertOk(result);
      assertRequest(result.request, 'GET', '/v1/dead-letters?taskId=nightly-report&errorType=UpstreamError');
      assert.match(
        result.stdout,
        /nightly-report\s+2026-03-01T09:00:00Z\s+nightly-report\/2026-03-01T09:00:00Z\s+1\s+UpstreamError/,
      );
    });

    it('dead-letters retry --spec original and resolve --note: POST the run’s retry and resolve', async () => {
      const retried = await call(
        ['dead-letters', 'retry', 'nightly-report-2026-03-01T09:00:00Z', '--spec', 'original'],
        {
          status: 202,
          body: { taskId: 'nightly-report', run: { workflowId: 'w', runId: 'r2' } },
        },
      );
      assertOk(retried);
      assertRequest(retried.request, 'POST', '/v1/runs/nightly-report-2026-03-01T09%3A00%3A00Z/retry', {
        spec: 'original',
      });
      const resolved = await call(['dead-letters', 'resolve', 'w1', '--note', 'refunded', '--run-id', 'r1'], {
        status: 200,
        body: { taskId: 'nightly-report', resolved: { workflowId: 'w1', runId: 'r1' }, note: 'refunded' },
      });
      assertOk(resolved);
      assertRequest(resolved.request, 'POST', '/v1/runs/w1/resolve', { note: 'refunded', runId: 'r1' });
    });

    it('dead-letters resolve without --note: one line, exit 1, no request', async () => {
      const api = await fakeApi(() => ({ status: 200, body: {} }));
      try {
        const result = await cli(api.url, ['dead-letters', 'resolve', 'w1']);
        assert.notEqual(result.code, 0);
        assert.equal(result.errLines.length, 1, result.stderr);
        assert.match(result.errLines[0] ?? '', /--note/);
        assert.equal(api.requests.length, 0);
      } finally {
        await api.close();
      }
    });
  });

  describe('groups', { concurrency: 4 }, () => {
    it('groups: GET /v1/groups, a table of group, kind, limit, running, waiting and granted', async () => {
      const result = await call(['groups'], {
        status: 200,
        body: {
          items: [
            {
              group: 'erp',
              kind: 'concurrency',
              limit: 3,
              running: 3,
              waiting: 7,
              granted: 120,
              runningRuns: [],
              waitingRuns: [],
            },
            {
              group: 'erp-api',
              kind: 'rate',
              perSecond: 2,
              running: 0,
              waiting: 1,
              granted: 40,
              runningRuns: [],
              waitingRuns: [],
            },
          ],
        },
      });
      assertOk(result);
      assertRequest(result.request, 'GET', '/v1/groups');
      assert.match(result.stdout, /erp\s+concurrency\s+3\s+3\s+7\s+120/);
      assert.match(result.stdout, /erp-api\s+rate\s+2\/s\s+0\s+1\s+40/);
    });

    it('jobs submit --concurrency: sent with the job; a bad one is one line and a non-zero exit, with no request', async () => {
      const sent = await call(
        ['jobs', 'submit', '--function', 'heartbeat', '--key', 'k1', '--concurrency', '{"group":"erp","limit":2}'],
        { status: 202, body: { jobId: 'a'.repeat(32), workflowId: `job-${'a'.repeat(32)}` } },
      );
      assertOk(sent);
      assertRequest(sent.request, 'POST', '/v1/jobs', {
        handler: { type: 'function', name: 'heartbeat' },
        idempotencyKey: 'k1',
        concurrency: { group: 'erp', limit: 2 },
      });
      await assertRefusedLocally(
        ['jobs', 'submit', '--function', 'heartbeat', '--key', 'k1', '--concurrency', '{"group":"erp","limit":0}'],
        /limit/,
      );
    });
  });

  describe('circuits', { concurrency: 4 }, () => {
    it('circuits: GET /v1/circuits, a table of key, state, since, recent failures, threshold and times opened', async () => {
      const breaker = (key: string, state: string, extra: Record<string, unknown>) => ({
        key,
        state,
        since: '2026-03-01T09:00:00.000Z',
        recentFailures: 0,
        recentCalls: 0,
        failures: 5,
        window: 10,
        openForMs: 5000,
        opened: 1,
        calls: 12,
        failed: 6,
        ...extra,
      });
      const result = await call(['circuits'], {
        status: 200,
        body: {
          items: [
            breaker('https://erp.example.com', 'open', { halfOpenAt: '2026-03-01T09:00:05.000Z' }),
            breaker('erp-db', 'closed', { recentFailures: 2, recentCalls: 7, opened: 0 }),
          ],
        },
      });
      assertOk(result);
      assertRequest(result.request, 'GET', '/v1/circuits');
      assert.match(
        result.stdout,
        /https:\/\/erp\.example\.com\s+open \(trial at 2026-03-01T09:00:05\.000Z\)\s+2026-03-01T09:00:00\.000Z\s+0\/0\s+5\/10\s+1/,
      );
      assert.match(result.stdout, /erp-db\s+closed\s+2026-03-01T09:00:00\.000Z\s+2\/7\s+5\/10\s+0/);
    });

    it('jobs submit --circuit-breaker: sent with defaults; a bad one is one line and a non-zero exit, with no request', async () => {
      const sent = await call(
        ['jobs', 'submit', '--function', 'heartbeat', '--key', 'k1', '--circuit-breaker', '{"key":"erp-db"}'],
        { status: 202, body: { jobId: 'a'.repeat(32), workflowId: `job-${'a'.repeat(32)}` } },
      );
      assertOk(sent);
      assertRequest(sent.request, 'POST', '/v1/jobs', {
        handler: { type: 'function', name: 'heartbeat' },
        idempotencyKey: 'k1',
        circuitBreaker: { key: 'erp-db', failures: 5, window: 10, openFor: '5s', onOpen: 'wait' },
      });
      await assertRefusedLocally(
        ['jobs', 'submit', '--function', 'heartbeat', '--key', 'k1', '--circuit-breaker', '{"failures":20}'],
        /failures must be at most window/,
      );
    });
  });

  describe('alerts', { concurrency: 4 }, () => {
    const id = '6f1c2a9e-8b1d-4e2f-9a3b-5c7d8e9f0a1b';
    const open = {
      id,
      taskId: 'nightly-report',
      event: 'run_overdue',
      severity: 'P1',
      firstAt: '2026-03-01T09:05:00.000Z',
      lastSentAt: '2026-03-01T09:15:00.000Z',
      sent: 2,
    };

    it('alerts list: GET /v1/alerts, a table of id, task, event, severity and deliveries', async () => {
      const result = await call(['alerts', 'list'], { status: 200, body: { items: [open] } });
      assertOk(result);
      assertRequest(result.request, 'GET', '/v1/alerts');
      assert.match(
        result.stdout,
        new RegExp(`${id}\\s+nightly-report\\s+run_overdue\\s+P1\\s+2026-03-01T09:05:00.000Z\\s+2`),
      );
    });

    it('alerts ack --note: POST /v1/alerts/{id}/ack; an unknown id is one line and exit 1', async () => {
      const acked = await call(['alerts', 'ack', id, '--note', 'on it'], {
        status: 200,
        body: { ...open, acknowledged: { by: 'ops', at: '2026-03-01T09:16:00.000Z', note: 'on it' } },
      });
      assertOk(acked);
      assertRequest(acked.request, 'POST', `/v1/alerts/${id}/ack`, { note: 'on it' });
      const missing = await call(['alerts', 'ack', id], {
        status: 404,
        contentType: 'application/problem+json',
        body: {
          type: 'https://surecron.dev/problems/not-found',
          title: 'Not found',
          status: 404,
          detail: `no open alert ${id}`,
        },
      });
      assert.equal(missing.code, 1);
      assert.equal(missing.errLines.length, 1, missing.stderr);
      assert.match(missing.errLines[0] ?? '', /no open alert/);
    });
  });

  describe('preview, jobs, audit', { concurrency: 4 }, () => {
    const preview = {
      runs: [
        { at: '2026-03-29T07:00:00.000Z', local: '2026-03-29T09:00:00+02:00', dst: 'starts' },
        { at: '2026-03-30T07:00:00.000Z', local: '2026-03-30T09:00:00+02:00' },
      ],
    };

    it('preview --cron …: POST /v1/preview', async () => {
      const result = await call(
        [
          'preview',
          '--cron',
          '0 9 * * *',
          '30 17 * * 1-5',
          '--timezone',
          'Europe/Paris',
          '--count',
          '2',
          '--from',
          '2026-03-28T00:00:00Z',
        ],
        { status: 200, body: preview },
      );
      assertOk(result);
      assertRequest(result.request, 'POST', '/v1/preview', {
        schedule: { cron: ['0 9 * * *', '30 17 * * 1-5'], timezone: 'Europe/Paris' },
        count: 2,
        from: '2026-03-28T00:00:00Z',
      });
      assert.match(result.stdout, /2026-03-29T07:00:00.000Z/);
      assert.match(result.stdout, /starts/);
    });

    it('preview --every and preview -f', async () => {
      const every = await call(['preview', '--every', '15m', '--json'], { status: 200, body: preview });
      assertOk(every);
      assertRequest(every.request, 'POST', '/v1/preview', { schedule: { every: '15m' } });
      assert.deepEqual(JSON.parse(every.stdout), preview);
      const schedule = { cron: '0 0 1 * *', timezone: 'UTC' };
      const fromFile = await call(['preview', '-f', file('schedule.json', JSON.stringify(schedule))], {
        status: 200,
        body: preview,
      });
      assertOk(fromFile);
      assertRequest(fromFile.request, 'POST', '/v1/preview', { schedule });
    });

    it('jobs submit --function: POST /v1/jobs', async () => {
      const answer = { jobId: 'job-1', workflowId: 'job/job-1' };
      const result = await call(
        [
          'jobs',
          'submit',
          '--function',
          'sendEmail',
          '--input',
          '{"to":"a@b.c"}',
          '--key',
          'welcome-42',
          '--run-at',
          '2026-05-01T12:00:00Z',
          '--retry',
          '{"maxAttempts":3}',
          '--timeouts',
          '{"attempt":"30s"}',
          '--json',
        ],
        { status: 202, body: answer },
      );
      assertOk(result);
      assertRequest(result.request, 'POST', '/v1/jobs', {
        handler: { type: 'function', name: 'sendEmail' },
        input: { to: 'a@b.c' },
        idempotencyKey: 'welcome-42',
        runAt: '2026-05-01T12:00:00Z',
        retry: { maxAttempts: 3 },
        timeouts: { attempt: '30s' },
      });
      assert.deepEqual(JSON.parse(result.stdout), answer);
    });

    it('jobs submit --handler-file, and jobs get', async () => {
      const handler = { type: 'http', url: 'https://example.com/once' };
      const path = file('handler.yaml', 'type: http\nurl: https://example.com/once\n');
      const submit = await call(['jobs', 'submit', '--handler-file', path, '--key', 'k1'], {
        status: 202,
        body: { jobId: 'job-2', workflowId: 'job/job-2' },
      });
      assertOk(submit);
      assertRequest(submit.request, 'POST', '/v1/jobs', { handler, idempotencyKey: 'k1' });
      assert.match(submit.stdout, /job-2/);
      const job = { jobId: 'job-2', status: 'succeeded', attempts: 1 };
      const get = await call(['jobs', 'get', 'job-2', '--json'], { status: 200, body: job });
      assertOk(get);
      assertRequest(get.request, 'GET', '/v1/jobs/job-2');
      assert.deepEqual(JSON.parse(get.stdout), job);
    });

    it('audit: GET /v1/audit with filters; table lists task ids and changed fields', async () => {
      const page = {
        items: [
          {
            at: '2026-03-01T10:00:00.000Z',
            actor: 'alice',
            action: 'update',
            taskId: 'nightly-report',
            before: { schedule: { cron: '0 8 * * *' }, handler: { type: 'function', name: 'x' } },
            after: { schedule: { cron: '0 9 * * *' }, handler: { type: 'function', name: 'x' } },
          },
          { at: '2026-03-01T09:00:00.000Z', actor: 'bob', action: 'pause', taskId: 'nightly-report' },
        ],
        nextPageToken: 'p2',
      };
      const args = ['audit', '--task', 'nightly-report', '--from', '2026-03-01T00:00:00Z', '--page-token', 'p1'];
      const human = await call(args, { status: 200, body: page });
      assertOk(human);
      assertRequest(human.request, 'GET', '/v1/audit?taskId=nightly-report&from=2026-03-01T00%3A00%3A00Z&pageToken=p1');
      assert.match(human.stdout, /alice\s+update\s+nightly-report\s+schedule/);
      assert.match(human.stderr, /--page-token p2/);
      const json = await call([...args, '--json'], { status: 200, body: page });
      assert.deepEqual(JSON.parse(json.stdout), page);
    });
  });

  describe('errors and safety', { concurrency: 4 }, () => {
    it('a 404 problem: exit 1, one stderr line with the status and detail', async () => {
      const problem = {
        type: 'https://surecron.dev/problems/not-found',
        title: 'Not found',
        status: 404,
        detail: 'task ghost not found',
      };
      const result = await call(['tasks', 'get', 'ghost'], {
        status: 404,
        body: problem,
        contentType: 'application/problem+json',
      });
      assert.equal(result.code, 1);
      assert.equal(result.errLines.length, 1, result.stderr);
      assert.equal(result.errLines[0], 'surecron: 404 Not found: task ghost not found');
      assert.equal(result.stdout, '');
    });

    it('a 400 problem: field errors the detail leaves out are shown compactly, on the same line', async () => {
      const problem = {
        type: 'https://surecron.dev/problems/validation',
        title: 'Invalid request',
        status: 400,
        detail: 'invalid task',
        errors: [
          { path: 'schedule.cron', message: 'bad field' },
          { path: 'handler.url', message: 'must be an http(s) URL' },
        ],
      };
      const result = await call(['tasks', 'trigger', 'x'], {
        status: 400,
        body: problem,
        contentType: 'application/problem+json',
      });
      assert.equal(result.code, 1);
      assert.deepEqual(result.errLines, [
        'surecron: 400 Invalid request: invalid task (schedule.cron: bad field; handler.url: must be an http(s) URL)',
      ]);
    });

    it('a task file with an unknown field: exit 2 naming the field, nothing sent', async () => {
      await withFakeApi({ status: 500 }, async (api) => {
        const single = file('typo.json', JSON.stringify({ ...spec, retires: { maxAttempts: 3 } }));
        const create = await cli(api.url, ['tasks', 'create', '-f', single]);
        assert.equal(create.code, 2);
        assert.equal(create.errLines.length, 1, create.stderr);
        assert.match(create.errLines[0]!, /retires: unknown field/);
        const many = file(
          'typo-many.yaml',
          `- ${JSON.stringify(spec)}\n- ${JSON.stringify({ ...spec, id: 'b', x: 1 })}\n`,
        );
        const apply = await cli(api.url, ['tasks', 'apply', '-f', many]);
        assert.equal(apply.code, 2);
        assert.match(apply.errLines[0]!, /\[1\]\.x: unknown field/);
        assert.deepEqual(api.requests, []);
      });
    });

    it('invalid options: exit 2, one line, nothing sent', async () => {
      await withFakeApi({ status: 500 }, async (api) => {
        const cases = [
          ['tasks', 'get', 'Not_A_Valid_ID!'],
          ['tasks', 'runs', 'x', '--status', 'exploded'],
          ['tasks', 'ledger', 'x', '--from', 'yesterday', '--to', '2026-01-01T00:00:00Z'],
          ['tasks', 'list', '--page-size', '0'],
          ['preview', '--cron', 'not a cron'],
          ['preview', '--every', '5m', '--timezone', 'Mars/Olympus'],
          ['jobs', 'submit', '--function', 'f', '--key', 'k', '--input', '{oops'],
          ['jobs', 'submit', '--function', 'f', '--key', 'k', '--retry', '{"maxAttempts":0}'],
          ['tasks', 'frobnicate'],
        ];
        for (const args of cases) {
          const result = await cli(api.url, args);
          assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
          assert.equal(result.errLines.length, 1, `${args.join(' ')}: ${result.stderr}`);
          assert.match(result.errLines[0]!, /^surecron: /);
        }
        assert.deepEqual(api.requests, []);
      });
    });

    it('delete without a terminal needs --yes (exit 2, nothing sent); with --yes sends DELETE', async () => {
      await withFakeApi({ status: 204 }, async (api) => {
        const refused = await cli(api.url, ['tasks', 'delete', 'nightly-report']);
        assert.equal(refused.code, 2);
        assert.equal(refused.errLines.length, 1);
        assert.match(refused.errLines[0]!, /--yes/);
        assert.deepEqual(api.requests, []);
        const deleted = await cli(api.url, ['tasks', 'delete', 'nightly-report', '--yes']);
        assertOk(deleted);
        assert.equal(api.requests.length, 1);
        assertRequest(api.requests[0]!, 'DELETE', '/v1/tasks/nightly-report');
        assert.match(deleted.stdout, /deleted task nightly-report/);
      });
    });

    it('connection refused: exit 1, one line naming the URL', async () => {
      const api = await fakeApi(() => ({ status: 200 }));
      await api.close();
      const result = await cli(api.url, ['tasks', 'list']);
      assert.equal(result.code, 1);
      assert.equal(result.errLines.length, 1, result.stderr);
      assert.ok(result.errLines[0]!.includes(api.url), result.stderr);
      assert.match(result.errLines[0]!, /connection refused/);
    });

    it('--url and --token override the environment; bin/surecron.mjs runs the same CLI', async () => {
      await withFakeApi({ status: 200, body: { items: [] } }, async (api) => {
        const result = await cli('http://127.0.0.1:1', ['--url', api.url, '--token', 'other', 'tasks', 'list']);
        assertOk(result);
        assert.equal(api.requests[0]?.authorization, 'Bearer other');
        const viaBin = await cli(api.url, ['tasks', 'list', '--json'], ['bin/surecron.mjs']);
        assertOk(viaBin);
        assert.deepEqual(JSON.parse(viaBin.stdout), { items: [] });
        assert.equal(api.requests[1]?.authorization, `Bearer ${token}`);
      });
    });
  });
});
