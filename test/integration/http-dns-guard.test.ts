import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer, type ServerResponse } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import { NonRetryableError, type HandlerContext } from '../../src/activities/handler.js';
import {
  createHttpGuard,
  guardedLookup,
  HttpTargetRefusedError,
  type HttpGuard,
} from '../../src/security/http-guard.js';
import { callHttp, MAX_REQUEST_HEADER_BYTES, MAX_RESPONSE_BYTES } from '../../src/activities/http.js';
import { listRuns, type Run } from '../../src/runs/runs.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { listenLocal } from '../helpers/http.js';
import { quietLogger, testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';

/*
 * Decision (also in the guard's docs): after resolution, a name is allowed when it is allow-listed by name, or when
 * every address it connects to is public or inside an allow-listed IP/CIDR. So a name resolving to an allow-listed
 * IP is allowed. `localhost` (and `*.localhost`) is the exception: loopback by definition, it is refused by name
 * before any resolution unless the name itself is allow-listed; an allow-listed 127.0.0.1 does not allow it.
 */

type LookupResult = { error: Error | null; address: string | LookupAddress[]; family?: number };

/** Calls a guarded lookup the way `net.connect` does and collects what it hands to the socket. */
function lookup(guard: HttpGuard, host: string, all: boolean, answer?: LookupAddress[]): Promise<LookupResult> {
  const resolve = answer ? () => Promise.resolve(answer) : undefined;
  const fn = guardedLookup(guard, resolve);
  return new Promise((done) => {
    fn(host, { all }, (error: Error | null, address: string | LookupAddress[], family?: number) =>
      done({ error, address, family }),
    );
  });
}

const v4 = (address: string): LookupAddress => ({ address, family: 4 });

describe('the http guard after resolution (lookup function)', () => {
  const strict = createHttpGuard('');

  it('refuses localhost after resolution (it resolves to loopback)', async () => {
    const result = await lookup(strict, 'localhost', true);
    assert.ok(result.error instanceof HttpTargetRefusedError, String(result.error));
    assert.match(result.error.message, /loopback/);
  });

  it('refuses a name an injected resolver answers with 10.0.0.5 (evil.example)', async () => {
    for (const all of [true, false]) {
      const result = await lookup(strict, 'evil.example', all, [v4('10.0.0.5')]);
      assert.ok(result.error instanceof HttpTargetRefusedError);
      assert.match(result.error.message, /evil\.example .*10\.0\.0\.5 is a private address/);
    }
  });

  it('allows a name resolving to a public address and passes exactly that address on', async () => {
    const one = await lookup(strict, 'evil.example', false, [v4('93.184.216.34')]);
    assert.equal(one.error, null);
    assert.equal(one.address, '93.184.216.34');
    assert.equal(one.family, 4);
    const all = await lookup(strict, 'evil.example', true, [v4('93.184.216.34')]);
    assert.deepEqual(all.address, [v4('93.184.216.34')]);
  });

  it('drops refused addresses of a mixed answer; only checked addresses reach the socket', async () => {
    const mixed = [v4('127.0.0.1'), v4('93.184.216.34'), { address: '::1', family: 6 }];
    const all = await lookup(strict, 'mixed.example', true, mixed);
    assert.deepEqual(all.address, [v4('93.184.216.34')]);
    const one = await lookup(strict, 'mixed.example', false, mixed);
    assert.equal(one.address, '93.184.216.34');
  });

  it('refuses IPv4-mapped and link-local answers (cloud metadata)', async () => {
    for (const address of ['169.254.169.254', '::ffff:127.0.0.1', 'fe80::1']) {
      const result = await lookup(strict, 'meta.example', true, [{ address, family: address.includes(':') ? 6 : 4 }]);
      assert.ok(result.error instanceof HttpTargetRefusedError, address);
    }
  });

  it('allows resolution to an allow-listed IP or CIDR, and anything for an allow-listed name', async () => {
    const byCidr = createHttpGuard('10.0.0.0/8');
    assert.equal((await lookup(byCidr, 'evil.example', false, [v4('10.0.0.5')])).address, '10.0.0.5');
    assert.ok(
      (await lookup(byCidr, 'evil.example', false, [v4('192.168.0.5')])).error instanceof HttpTargetRefusedError,
    );
    const byName = createHttpGuard('internal.corp');
    assert.equal((await lookup(byName, 'internal.corp.', false, [v4('10.0.0.5')])).address, '10.0.0.5');
    assert.ok((await lookup(byName, 'other.corp', false, [v4('10.0.0.5')])).error instanceof HttpTargetRefusedError);
  });
});

// --- callHttp against a local server --------------------------------------------------------------------------

interface Local {
  port: number;
  paths: string[];
  close(): Promise<void>;
}

async function startServer(respond: (path: string, res: ServerResponse, port: number) => void): Promise<Local> {
  const paths: string[] = [];
  let port = 0;
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => respond(req.url ?? '', res, port));
  });
  const local = await listenLocal(server);
  port = local.port;
  return { port, paths, close: local.close };
}

function context(): HandlerContext {
  return {
    taskId: 'dns-guard',
    nominalTime: '2026-01-01T00:00:00.000Z',
    idempotencyKey: 'dns-guard@2026-01-01T00:00:00.000Z',
    attempt: 1,
    heartbeatDetails: undefined,
    heartbeat() {},
    signal: new AbortController().signal,
    log: quietLogger,
  };
}

describe('callHttp connects only to the address it checked', () => {
  let server: Local;
  before(async () => {
    server = await startServer((path, res) => {
      if (path === '/big') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(Buffer.alloc(MAX_RESPONSE_BYTES + 1, 'a'));
      } else if (path === '/big-chunked') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(64 * 1024, 'b');
        for (let i = 0; i < 20; i++) res.write(chunk);
        res.end();
      } else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }
    });
  });
  after(async () => {
    await server.close();
  });

  const http = (url: string, headers?: Record<string, string>) =>
    taskSpecSchema.parse({
      id: 'dns-guard',
      schedule: { cron: '0 0 1 1 *' },
      handler: { type: 'http', method: 'GET', url, ...(headers ? { headers } : {}) },
    }).handler as Extract<ReturnType<typeof taskSpecSchema.parse>['handler'], { type: 'http' }>;

  it('a name that passes the URL check but resolves to loopback (DNS rebinding) is refused, nothing is sent', async () => {
    const guard = createHttpGuard('');
    const url = `http://rebind.example:${server.port}/`;
    assert.equal(guard.refuse(url), undefined, 'the URL alone looks public');
    const before = server.paths.length;
    await assert.rejects(
      callHttp(http(url), context(), guard, { resolve: () => Promise.resolve([v4('127.0.0.1')]) }),
      (error: Error) => error instanceof NonRetryableError && /http target refused: .*loopback/.test(error.message),
    );
    assert.equal(server.paths.length, before, 'the local server saw no request');
  });

  it('resolution to an allow-listed IP is allowed: the request reaches the checked address', async () => {
    // rebind.example does not exist: the request can only arrive because the socket used the checked answer.
    const result = await callHttp(
      http(`http://rebind.example:${server.port}/ok`),
      context(),
      createHttpGuard('127.0.0.1'),
      {
        resolve: () => Promise.resolve([v4('127.0.0.1')]),
      },
    );
    assert.deepEqual(result, { status: 200, body: { ok: true } });
    assert.equal(server.paths.at(-1), '/ok');
  });

  it('aborts a response body over 1 MiB (declared or streamed) without retrying', async () => {
    const guard = createHttpGuard('127.0.0.1');
    for (const path of ['/big', '/big-chunked']) {
      await assert.rejects(
        callHttp(http(`http://127.0.0.1:${server.port}${path}`), context(), guard),
        (error: Error) => error instanceof NonRetryableError && /larger than 1048576 bytes/.test(error.message),
        path,
      );
    }
  });

  it('a redirect to another origin drops Authorization, Cookie and the headers marked secret; a same-origin one keeps them', async () => {
    const seen: Record<string, Record<string, string | string[] | undefined>> = {};
    const record = (name: string) =>
      createServer((req, res) => {
        seen[`${name}${req.url ?? ''}`] = req.headers;
        if (req.url === '/cross') res.writeHead(302, { location: `${other.origin}/final` }).end();
        else if (req.url === '/same') res.writeHead(302, { location: '/final' }).end();
        else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    const [origin, other] = await Promise.all([listenLocal(record('origin')), listenLocal(record('other'))]);
    try {
      const guard = createHttpGuard('127.0.0.1');
      const headers = {
        Authorization: 'Bearer s3cret',
        Cookie: 'session=1',
        'X-Api-Key': 'k-42',
        'X-Trace': 'visible',
      };
      for (const path of ['/cross', '/same']) {
        const handler = http(`${origin.origin}${path}`, headers);
        handler.secretHeaders = ['x-api-key'];
        assert.deepEqual(await callHttp(handler, context(), guard), { status: 200, body: { ok: true } });
      }
      const credentials = (h: Record<string, unknown> | undefined) => [h?.authorization, h?.cookie, h?.['x-api-key']];
      assert.deepEqual(credentials(seen['origin/cross']), ['Bearer s3cret', 'session=1', 'k-42']);
      assert.deepEqual(credentials(seen['other/final']), [undefined, undefined, undefined], 'nothing secret left');
      assert.equal(seen['other/final']?.['x-trace'], 'visible', 'other headers follow the redirect');
      assert.equal(seen['other/final']?.['idempotency-key'], context().idempotencyKey);
      assert.deepEqual(credentials(seen['origin/final']), ['Bearer s3cret', 'session=1', 'k-42'], 'same origin');
    } finally {
      await Promise.all([origin.close(), other.close()]);
    }
  });

  it('refuses request headers totalling more than 16 KiB before sending', async () => {
    const guard = createHttpGuard('127.0.0.1');
    const handler = http(`http://127.0.0.1:${server.port}/ok`);
    handler.headers = { 'x-big': 'x'.repeat(MAX_REQUEST_HEADER_BYTES) };
    const before = server.paths.length;
    await assert.rejects(
      callHttp(handler, context(), guard),
      (error: Error) => error instanceof NonRetryableError && /request headers total/.test(error.message),
    );
    assert.equal(server.paths.length, before);
  });
});

// --- end to end, through a task -------------------------------------------------------------------------------

describe('the DNS guard through a task run', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  async function runOnce(allowlist: string, url: (port: number) => string, redirectTo?: (port: number) => string) {
    const server = await startServer((path, res, port) => {
      if (redirectTo && path === '/start') res.writeHead(302, { location: redirectTo(port) }).end();
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const taskQueue = uniqueId('tq');
    const id = uniqueId('dns-guard');
    const { worker, connection } = await testWorker({ taskQueue, httpAllowlist: allowlist });
    let created = false;
    try {
      await testStore(client, taskQueue).create(
        taskSpecSchema.parse({
          id,
          schedule: { cron: '0 0 1 1 *' },
          handler: { type: 'http', method: 'GET', url: url(server.port) },
          retry: { maxAttempts: 3, initialInterval: '100ms', backoffCoefficient: 1 },
        }),
        'api',
      );
      created = true;
      await client.schedule.getHandle(id).trigger();
      const run: Run = await worker.runUntil(
        waitFor(
          async () => (await listRuns(client, id)).items.find((r) => r.status !== 'running'),
          30_000,
          `the run of ${id} to close`,
        ),
      );
      return { run, paths: [...server.paths] };
    } finally {
      if (created) await client.schedule.getHandle(id).delete();
      await connection.close();
      await server.close();
    }
  }

  it('http://localhost with only 127.0.0.1 allow-listed: refused by name, no request, no retry', async () => {
    const { run, paths } = await runOnce('127.0.0.1', (port) => `http://localhost:${port}/`);
    assert.equal(run.status, 'failed');
    assert.equal(run.attempts, 1);
    assert.match(run.error ?? '', /http target refused: localhost is loopback/);
    assert.deepEqual(paths, []);
  });

  it('http://localhost with localhost allow-listed by name: resolved, connected, succeeds', async () => {
    const { run, paths } = await runOnce('localhost', (port) => `http://localhost:${port}/`);
    assert.equal(run.status, 'succeeded', run.error);
    assert.deepEqual(paths, ['/']);
  });

  it('a redirect to http://localhost.:<port> (trailing dot) is refused when localhost is not allowed', async () => {
    const { run, paths } = await runOnce(
      '127.0.0.1',
      (port) => `http://127.0.0.1:${port}/start`,
      (port) => `http://localhost.:${port}/final`,
    );
    assert.equal(run.status, 'failed');
    assert.equal(run.attempts, 1);
    assert.match(run.error ?? '', /http target refused: localhost is loopback/);
    assert.deepEqual(paths, ['/start'], 'the redirect target was never requested');
  });
});
