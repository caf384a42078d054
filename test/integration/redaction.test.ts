import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/api/app.js';
import { createLogger } from '../../src/logger.js';
import { testRules } from '../helpers/rules.js';
import { TaskService } from '../../src/tasks/service.js';
import type { TaskStore } from '../../src/tasks/store.js';
import { listenLocal } from '../helpers/http.js';
import { deleteSchedules } from '../helpers/teardown.js';
import { testClient, testStore, testWorker, uniqueId, waitFor } from '../helpers/temporal.js';

const ADMIN = 'admin-token-never-logged-0123456789';
const READER = 'reader-token-never-logged-987654';
const HANDLER_SECRET = 'handler-bearer-never-logged';
const WECOM_KEY = 'wecom-key-never-logged-42';

/**
 * Secrets never reach a log line: API tokens (valid or not), http-handler headers marked secret, the secret parts
 * of alert webhook URLs, and secret-looking fields logged by mistake.
 */
describe('secrets are redacted from every log', () => {
  it('API, worker, handler and alert logs never contain a secret', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger({ level: 'trace', format: 'json', destination: sink });
    const target = await listenLocal(createServer((_request, response) => response.writeHead(500).end('down')));
    const failing = await listenLocal(createServer((_request, response) => response.writeHead(500).end()));
    const client = await testClient();
    const taskQueue = uniqueId('tq-redact');
    const store = testStore(client, taskQueue);
    const app = await buildApp({
      service: new TaskService(client, store),
      rules: testRules('127.0.0.1'),
      logger,
      apiToken: ADMIN,
      namedTokens: `reader:${READER}:read`,
      readiness: async () => Promise.resolve({ ready: true, checks: {} }),
    });
    const { worker, connection } = await testWorker({
      taskQueue,
      logger,
      alerts: {
        channels: [
          {
            type: 'wecom',
            name: 'wecom',
            url: `${failing.origin}/cgi-bin/webhook/send?key=${WECOM_KEY}`,
          },
        ],
      },
    });
    const id = uniqueId('secret-headers');
    try {
      await worker.runUntil(async () => {
        await app.inject({ url: '/v1/tasks', headers: { authorization: `Bearer ${ADMIN}` } });
        await app.inject({ url: '/v1/tasks', headers: { authorization: `Bearer ${READER}` } });
        await app.inject({
          method: 'POST',
          url: '/v1/tasks',
          headers: { authorization: `Bearer ${READER}x` },
          payload: {},
        });
        const created = await app.inject({
          method: 'POST',
          url: '/v1/tasks',
          headers: { authorization: `Bearer ${ADMIN}` },
          payload: {
            id,
            schedule: { cron: '0 0 1 1 *' },
            handler: {
              type: 'http',
              url: `${target.origin}/work`,
              headers: { authorization: `Bearer ${HANDLER_SECRET}` },
              secretHeaders: ['authorization'],
            },
            retry: { maxAttempts: 2, initialInterval: '100ms' },
          },
        });
        assert.equal(created.statusCode, 201, created.body);
        assert.ok(!created.body.includes(HANDLER_SECRET), 'the API never returns a secret header value');
        await app.inject({
          method: 'POST',
          url: `/v1/tasks/${id}/trigger`,
          headers: { authorization: `Bearer ${ADMIN}` },
        });
        await waitFor(
          async () => (lines.some((l) => l.includes('alert delivery failed')) ? true : undefined),
          30_000,
          'the failed run and the failed alert delivery to be logged',
        );
      });
      logger.info(
        { token: ADMIN, headers: { authorization: `Bearer ${ADMIN}` }, secret: WECOM_KEY },
        'careless log line',
      );
      const broken = await buildApp({
        service: new TaskService(client, {
          list: () => Promise.reject(new Error(`boom ${ADMIN}`)),
        } as unknown as TaskStore),
        rules: testRules(),
        logger,
        apiToken: ADMIN,
        readiness: async () => Promise.resolve({ ready: true, checks: {} }),
      });
      await broken.inject({ url: '/v1/tasks', headers: { authorization: `Bearer ${ADMIN}` } });
      await broken.close();
    } finally {
      await deleteSchedules(client, [id]);
      await connection.close();
      await app.close();
      await target.close();
      await failing.close();
      await client.connection.close();
    }
    const all = lines.join('\n');
    assert.ok(lines.length >= 10, `captured ${lines.length} log lines`);
    assert.ok(all.includes('handler attempt failed'), 'the handler failure was logged');
    assert.ok(all.includes('"actor":"reader"'), 'API request logs carry the actor');
    assert.ok(all.includes('"reqId"'), 'API request logs carry a request id');
    assert.ok(all.includes('[redacted]'), 'secret fields are replaced, not dropped silently');
    for (const secret of [ADMIN, READER, HANDLER_SECRET, WECOM_KEY]) {
      assert.ok(
        !all.includes(secret),
        `${secret.slice(0, 12)}… appears in the logs: ${lines.find((l) => l.includes(secret))}`,
      );
    }
  });
});
