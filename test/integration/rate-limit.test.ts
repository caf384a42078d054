import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildApp } from '../../src/api/app.js';
import { testRules } from '../helpers/rules.js';
import { TaskService } from '../../src/tasks/service.js';
import { quietLogger, testClient, testStore, uniqueId } from '../helpers/temporal.js';

describe('rate limit', () => {
  it('throttles a caller past its limit with a 429 problem, never the health probes', async () => {
    const client = await testClient();
    const app = await buildApp({
      service: new TaskService(client, testStore(client, uniqueId('tq'))),
      rules: testRules(),
      logger: quietLogger,
      apiToken: 'rate-limit-admin-token-123',
      readiness: async () => Promise.resolve({ ready: true, checks: {} }),
      rateLimitPerMinute: 3,
    });
    try {
      const headers = { authorization: 'Bearer rate-limit-admin-token-123' };
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await app.inject({ url: '/v1/tasks/nope', headers })).statusCode);
      assert.deepEqual(statuses, [404, 404, 404, 429]);
      const limited = await app.inject({ url: '/v1/tasks/nope', headers });
      assert.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8');
      assert.equal(limited.json<{ status: number; title: string }>().status, 429);
      assert.equal(limited.json<{ title: string }>().title, 'Too Many Requests');
      const retryAfter = Number(limited.headers['retry-after']);
      assert.ok(retryAfter > 0 && retryAfter <= 60, `Retry-After: ${limited.headers['retry-after']}`);
      const other = await app.inject({ url: '/v1/tasks/nope', headers: { authorization: 'Bearer another-token' } });
      assert.equal(other.statusCode, 401, 'another caller has its own budget');
      for (let i = 0; i < 5; i++) assert.equal((await app.inject({ url: '/livez' })).statusCode, 200);
    } finally {
      await app.close();
      await client.connection.close();
    }
  });
});
