import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { pino } from 'pino';
import { buildApp } from '../../src/api/app.js';
import { DISCARD_LIMIT_BYTES } from '../../src/api/oversize.js';
import { TaskService } from '../../src/tasks/service.js';
import { TaskStore } from '../../src/tasks/store.js';
import { testRules } from '../helpers/rules.js';

const ADMIN = 'admin-token-0123456789';

describe('an oversize body on a reused keep-alive connection is answered, not reset', () => {
  let app: Awaited<ReturnType<typeof buildApp>>;
  let client: Client;
  let url: string;
  before(async () => {
    client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }), namespace: 'default' });
    app = await buildApp({
      service: new TaskService(client, new TaskStore(client, 'oversize-test')),
      rules: testRules(''),
      logger: pino({ level: 'silent' }),
      apiToken: ADMIN,
      readiness: () => Promise.resolve({ ready: true, checks: {} }),
    });
    url = await app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(async () => {
    await app.close();
  });

  /** 6 MB sent 1 MB at a time, 30 ms apart, with its content-length: the client is still sending when refused. */
  const paced = (): { body: ReadableStream<Uint8Array>; length: number } => {
    const chunk = new TextEncoder().encode('x'.repeat(1024 * 1024));
    let sent = 0;
    return {
      length: 6 * chunk.length,
      body: new ReadableStream({
        async pull(controller) {
          if (sent === 6) return controller.close();
          await new Promise((resolve) => setTimeout(resolve, 30));
          sent += 1;
          controller.enqueue(chunk);
        },
      }),
    };
  };

  it('a 6 MB body still being sent when refused: 10 of 10 get the 413 on a reused connection', async () => {
    const statuses: (number | string)[] = [];
    for (let round = 0; round < 10; round++) {
      await (await fetch(`${url}/livez`)).arrayBuffer();
      const { body, length } = paced();
      try {
        const response = await fetch(`${url}/v1/tasks`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'content-length': String(length),
            authorization: `Bearer ${ADMIN}`,
          },
          body,
          duplex: 'half',
        });
        const problem = (await response.json()) as { status: number; title: string };
        assert.match(String(response.headers.get('content-type')), /^application\/problem\+json/);
        assert.equal(problem.status, 413);
        statuses.push(response.status);
      } catch (error) {
        statuses.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
      }
    }
    assert.deepEqual(
      statuses,
      Array.from({ length: 10 }, () => 413),
    );
  });

  /** On one raw socket: `head`, then `chunks` 50 ms apart, then `more`; what it read, and whether the server had closed. */
  const rawExchange = async (
    head: string,
    chunks: Buffer[],
    more: string,
  ): Promise<{ text: string; closedAtOnce: boolean }> => {
    const port = Number(new URL(url).port);
    const socket = connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    socket.on('data', (data) => (text += data.toString()));
    socket.on('error', () => undefined);
    const done = new Promise<void>((resolve) => socket.on('close', () => ((closed = true), resolve())));
    socket.write(head);
    for (const chunk of chunks) {
      await sleep(50);
      if (!closed) socket.write(chunk);
    }
    await sleep(300);
    const closedAtOnce = closed;
    if (!closed) socket.write(more);
    await Promise.race([done, sleep(1000)]);
    socket.destroy();
    return { text, closedAtOnce };
  };

  it('a 6 MB body is read to its end and refused; the same connection then serves the next request', async () => {
    const chunks = Array.from({ length: 6 }, () => Buffer.alloc(1024 * 1024, 'x'));
    const head =
      `POST /v1/tasks HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${ADMIN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${6 * 1024 * 1024}\r\n\r\n`;
    const { text, closedAtOnce } = await rawExchange(head, chunks, 'GET /livez HTTP/1.1\r\nHost: t\r\n\r\n');
    assert.equal(closedAtOnce, false);
    const answers = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    assert.deepEqual(answers, [413, 200]);
    assert.match(text, /content-type: application\/problem\+json/);
    assert.match(text, /"status":413/);
  });

  it(`a body declared larger than ${DISCARD_LIMIT_BYTES / 2 ** 20} MB is refused at once and the connection closed`, async () => {
    const head =
      `POST /v1/tasks HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer ${ADMIN}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${DISCARD_LIMIT_BYTES + 1}\r\n\r\n`;
    const { text, closedAtOnce } = await rawExchange(head, [], '');
    assert.equal(closedAtOnce, true);
    assert.match(text, /^HTTP\/1\.1 413 /);
    assert.match(text, /connection: close/i);
    assert.match(text, /"status":413/);
  });

  for (const auth of [true, false]) {
    it(`6 MB POST /v1/tasks after small requests, ${auth ? 'authenticated' : 'no token'}: 20 of 20 get their problem`, async () => {
      const big = JSON.stringify({ id: 'big', description: 'x'.repeat(6 * 1024 * 1024) });
      const statuses: (number | string)[] = [];
      for (let round = 0; round < 20; round++) {
        const small = await fetch(`${url}/livez`);
        await small.arrayBuffer();
        try {
          const response = await fetch(`${url}/v1/tasks`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${ADMIN}` } : {}) },
            body: big,
          });
          const body = (await response.json()) as { status: number };
          assert.match(String(response.headers.get('content-type')), /^application\/problem\+json/);
          assert.equal(body.status, response.status);
          statuses.push(response.status);
        } catch (error) {
          statuses.push(String((error as { cause?: { code?: string } }).cause?.code ?? error));
        }
      }
      assert.deepEqual(
        statuses,
        Array.from({ length: 20 }, () => (auth ? 413 : 401)),
      );
    });
  }
});
