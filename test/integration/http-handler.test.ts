import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { taskSpecSchema, type TaskSpecInput } from '../../src/tasks/spec.js';
import { listenLocal } from '../helpers/http.js';
import { runTestWorker, type RunningWorker } from '../helpers/teardown.js';
import { testClient, testStore, uniqueId, waitFor } from '../helpers/temporal.js';

interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

/** A local HTTP server that records every request and answers with `respond(request, index)`. */
async function startServer(respond: (request: Received, index: number) => Reply) {
  const requests: Received[] = [];
  const server = createServer((req, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received: Received = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: Date.now(),
      };
      requests.push(received);
      const reply = respond(received, requests.length - 1);
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.body ?? JSON.stringify({ status: reply.status }));
    });
  });
  const { origin, close } = await listenLocal(server);
  return { requests, origin, url: (path: string) => `${origin}${path}`, close };
}

type HttpHandlerInput = Extract<TaskSpecInput['handler'], { type: 'http' }>;

describe('the built-in http handler against a local server', () => {
  let client: Client;
  let worker: RunningWorker;
  const taskQueue = uniqueId('tq-http');
  before(async () => {
    client = await testClient();
    worker = await runTestWorker({ taskQueue });
  });
  after(async () => {
    await worker.stop();
    await client.connection.close();
  });

  /**
   * Creates an http task aimed at a fresh local server, triggers it once, and waits for the run to close.
   * @returns the closed run and the requests the server saw.
   */
  async function triggerOnce(options: {
    prefix: string;
    handler: (url: (path: string) => string) => Omit<HttpHandlerInput, 'type'>;
    respond: (request: Received, index: number) => Reply;
    maxAttempts?: number;
  }): Promise<{ id: string; run: Run; requests: Received[]; origin: string }> {
    const id = uniqueId(options.prefix);
    const server = await startServer(options.respond);
    const store = testStore(client, taskQueue);
    let created = false;
    try {
      await store.create(
        taskSpecSchema.parse({
          id,
          schedule: { cron: '0 0 1 1 *' },
          handler: { type: 'http', ...options.handler(server.url) },
          retry: { maxAttempts: options.maxAttempts ?? 5, initialInterval: '100ms', backoffCoefficient: 1 },
        } satisfies TaskSpecInput),
        'api',
      );
      created = true;
      await client.schedule.getHandle(id).trigger();
      const run = await waitFor(
        async () => (await listRuns(client, id)).items.find((r) => r.status !== 'running'),
        30_000,
        `the run of ${id} to close`,
      );
      return { id, run, requests: [...server.requests], origin: server.origin };
    } finally {
      if (created) await client.schedule.getHandle(id).delete();
      await server.close();
    }
  }

  it('POSTs the JSON body with an idempotency key of <taskId>@<nominal time>; succeeds on attempt 1', async () => {
    const { id, run, requests } = await triggerOnce({
      prefix: 'http-ok',
      handler: (url) => ({ url: url('/hook?x=1'), body: { hello: 'world', n: 1 } }),
      respond: () => ({ status: 200, body: '{"ok":true}' }),
    });
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.attempts, 1);
    assert.equal(run.trigger, 'schedule');
    assert.equal(requests.length, 1);
    const [request] = requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.path, '/hook?x=1');
    assert.equal(request!.headers['content-type'], 'application/json');
    assert.equal(request!.headers['user-agent'], 'surecron');
    assert.deepEqual(JSON.parse(request!.body), { hello: 'world', n: 1 });
    assert.match(run.nominalTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
    assert.equal(request!.headers['idempotency-key'], `${id}@${run.nominalTime}`);
  });

  it('retries 503 honouring Retry-After (1 s) over the 100 ms policy interval; succeeds on attempt 3', async () => {
    const { id, run, requests } = await triggerOnce({
      prefix: 'http-503',
      handler: (url) => ({ url: url('/flaky'), body: { a: 1 } }),
      respond: (_request, index) => (index < 2 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 }),
    });
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.attempts, 3);
    assert.equal(requests.length, 3);
    const gaps = [requests[1]!.at - requests[0]!.at, requests[2]!.at - requests[1]!.at];
    for (const gap of gaps) assert.ok(gap >= 900, `retried after ${gap} ms; Retry-After said 1000 ms`);
    const keys = new Set(requests.map((r) => r.headers['idempotency-key']));
    assert.deepEqual([...keys], [`${id}@${run.nominalTime}`], 'every attempt carries the same idempotency key');
  });

  for (const status of [404, 408]) {
    it(`fails at once on ${status}: exactly one request, not retried despite maxAttempts 5`, async () => {
      const { run, requests, origin } = await triggerOnce({
        prefix: `http-${status}`,
        handler: (url) => ({ url: url('/missing') }),
        respond: () => ({ status }),
      });
      assert.equal(run.status, 'failed');
      assert.equal(run.attempts, 1);
      assert.match(run.error ?? '', new RegExp(`HTTP ${status} from ${origin.replace(/\./g, '\\.')}`));
      assert.equal(requests.length, 1);
    });
  }

  it('retries 429', async () => {
    const { run, requests } = await triggerOnce({
      prefix: 'http-429',
      handler: (url) => ({ url: url('/limited') }),
      respond: (_request, index) => (index === 0 ? { status: 429 } : { status: 200 }),
    });
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.attempts, 2);
    assert.equal(requests.length, 2);
  });

  it('follows a 302 to another path on the same allowed server', async () => {
    const { id, run, requests } = await triggerOnce({
      prefix: 'http-302',
      handler: (url) => ({ url: url('/start'), body: { a: 1 } }),
      respond: (request) =>
        request.path === '/start' ? { status: 302, headers: { location: '/final' } } : { status: 200 },
    });
    assert.equal(run.status, 'succeeded', run.error);
    assert.equal(run.attempts, 1);
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.path}`),
      ['POST /start', 'GET /final'],
      'a 302 after POST continues as GET',
    );
    assert.equal(requests[1]!.headers['idempotency-key'], `${id}@${run.nominalTime}`);
  });

  it('refuses a redirect to a blocked target without requesting it, and does not retry', async () => {
    const { run, requests } = await triggerOnce({
      prefix: 'http-302-blocked',
      handler: (url) => ({ url: url('/start') }),
      respond: () => ({ status: 302, headers: { location: 'http://169.254.169.254/latest/meta-data/' } }),
    });
    assert.equal(run.status, 'failed');
    assert.equal(run.attempts, 1);
    assert.match(run.error ?? '', /http target refused: 169\.254\.169\.254 is a linkLocal address/);
    assert.deepEqual(
      requests.map((r) => r.path),
      ['/start'],
      'only the allowed server was called, once',
    );
  });

  it('expectStatus 204 treats a 200 as failure', async () => {
    const { run, requests, origin } = await triggerOnce({
      prefix: 'http-expect',
      handler: (url) => ({ url: url('/strict'), expectStatus: 204 }),
      respond: () => ({ status: 200 }),
    });
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', new RegExp(`HTTP 200 from ${origin.replace(/\./g, '\\.')}`));
    assert.equal(requests.length, 1);
  });
});
