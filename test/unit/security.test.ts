import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { buildApp } from '../../src/api/app.js';
import { authenticate, parseTokens } from '../../src/api/auth.js';
import { envSchema, loadConfig } from '../../src/config.js';
import { startDevServer } from '../../src/temporal/dev-server.js';
import { testRules } from '../helpers/rules.js';
import { TaskService } from '../../src/tasks/service.js';
import { TaskStore } from '../../src/tasks/store.js';

const ADMIN = 'admin-token-0123456789';

describe('API tokens', () => {
  const entries = parseTokens(ADMIN, 'ci:ci-token-abcdefgh:read');

  it('finds the principal of a right token, with or without extra whitespace', () => {
    assert.deepEqual(authenticate(entries, `Bearer ${ADMIN}`), { name: 'admin', scope: 'write' });
    assert.deepEqual(authenticate(entries, 'bearer   ci-token-abcdefgh  '), { name: 'ci', scope: 'read' });
  });

  it('answers undefined, never throws, for wrong tokens of every length (compared as equal-length digests)', () => {
    const wrong = [
      '',
      'a',
      ADMIN.slice(0, -1),
      `${ADMIN}x`,
      ADMIN.toUpperCase(),
      'x'.repeat(ADMIN.length),
      'y'.repeat(4096),
      'ci-token-abcdefg',
      'ci-token-abcdefghi',
      '\u00e9\u00e9\u00e9\u00e9',
    ];
    for (const token of wrong) {
      assert.doesNotThrow(() => authenticate(entries, `Bearer ${token}`), `token of length ${token.length}`);
      assert.equal(authenticate(entries, `Bearer ${token}`), undefined, `token of length ${token.length}`);
    }
    for (const header of [undefined, '', 'Basic Zm9vOmJhcg==', ADMIN, `Bearer ${ADMIN} extra`, `Bearer`]) {
      assert.equal(authenticate(entries, header), undefined, String(header));
    }
  });

  it('an empty bearer token never matches, even against an entry whose digest is of the empty string', () => {
    // The digest of "" is compared too (constant work), but a header without a token is refused.
    assert.equal(authenticate(parseTokens(ADMIN), 'Bearer '), undefined);
  });
});

describe('API body limit', () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  let client: Client;

  before(async () => {
    // Nothing here reaches Temporal: a lazy connection to a closed port is never dialled.
    client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), namespace: 'default' });
    app = await buildApp({
      service: new TaskService(client, new TaskStore(client, 'security-test')),
      rules: testRules(''),
      logger: pino({ level: 'silent' }),
      apiToken: ADMIN,
      readiness: () => Promise.resolve({ ready: true, checks: {} }),
    });
  });
  after(async () => {
    await app.close();
  });

  it('answers a 300 KiB body with 413 as problem+json (limit 256 KiB)', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'big', description: 'x'.repeat(300 * 1024) }),
    });
    assert.equal(response.statusCode, 413, response.body);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
    const body = response.json<{ status: number; title: string }>();
    assert.equal(body.status, 413);
    assert.doesNotMatch(response.body, /\n\s+at\s/, 'no stack trace');
  });

  it('an unauthenticated oversized body is refused too, without a 2xx', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/v1/tasks',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ id: 'big', description: 'x'.repeat(300 * 1024) }),
    });
    assert.ok([401, 413].includes(response.statusCode), `${response.statusCode}`);
    assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
  });
});

describe('embedded mode binds to loopback by default', () => {
  it('SURECRON_API_HOST defaults to 127.0.0.1', () => {
    assert.equal(loadConfig({}).SURECRON_API_HOST, '127.0.0.1');
    assert.equal(loadConfig({ SURECRON_API_HOST: '' }).SURECRON_API_HOST, '127.0.0.1', 'blank means default');
    assert.equal(envSchema.shape.SURECRON_API_HOST.parse(undefined), '127.0.0.1');
  });

  it('the dev server (gRPC and Web UI) is started with --ip 127.0.0.1 unless told otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'surecron-security-'));
    try {
      // A stand-in `temporal` that records its arguments and exits, so startDevServer fails fast.
      const fake = join(dir, 'temporal');
      const argsFile = join(dir, 'args');
      writeFileSync(fake, `#!/bin/sh\nprintf '%s\\n' "$@" > '${argsFile}'\nexit 3\n`);
      chmodSync(fake, 0o755);
      const started = startDevServer({
        executable: { kind: 'path', path: fake, source: 'TEMPORAL_CLI' },
        port: 1,
        uiPort: 2,
        namespace: 'default',
      });
      await assert.rejects(started, /exited early/);
      const args = readFileSync(argsFile, 'utf8').trim().split('\n');
      const ip = args.indexOf('--ip');
      assert.ok(ip >= 0, args.join(' '));
      assert.equal(args[ip + 1], '127.0.0.1');
      assert.ok(args.includes('--ui-port'), 'the Web UI is on, on that same interface');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
