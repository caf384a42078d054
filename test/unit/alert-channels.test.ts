import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingHttpHeaders, type ServerResponse, createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { type Alert } from '../../src/contract/alert.js';
import {
  AlertConfigError,
  AlertDeliveryError,
  type Channel,
  channelFromEnv,
  channelsFor,
  deliver,
  loadChannels,
  parseAlertsConfig,
  redactUrl,
} from '../../src/alerting/channels/index.js';
import { listenLocal } from '../helpers/http.js';
import { createAlertRouter } from '../../src/alerting/router.js';

const alert: Alert = {
  event: 'run_failed',
  taskId: 'nightly-report',
  severity: 'P1',
  at: '2025-01-02T03:04:05.000Z',
  summary: 'Run failed after 3 attempts: exit code 2',
  details: { nominalTime: '2025-01-02T03:00:00.000Z', attempts: 3, error: 'exit code 2', streak: { count: 2 } },
};

interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

interface TestServer {
  url: string;
  requests: Received[];
  close(): Promise<void>;
}

/** A real HTTP server on 127.0.0.1 recording every request; `reply` answers (or never does). */
async function startHttp(reply: (req: Received, res: ServerResponse) => void): Promise<TestServer> {
  const requests: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(received);
      reply(received, res);
    });
  });
  const { origin, close } = await listenLocal(server);
  return { url: origin, requests, close };
}

const respond = (status: number, body: unknown) => (_req: Received, res: ServerResponse) => {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(typeof body === 'string' ? body : JSON.stringify(body));
};

/** Asserts that `promise` rejects with an AlertDeliveryError for `channel` whose message matches `reason`. */
async function deliveryFails(promise: Promise<void>, channel: string, reason: RegExp): Promise<AlertDeliveryError> {
  let caught: unknown;
  await promise.catch((error: unknown) => (caught = error));
  assert.ok(caught instanceof AlertDeliveryError, `expected AlertDeliveryError, got ${String(caught)}`);
  assert.equal(caught.channel, channel);
  assert.match(caught.message, reason);
  return caught;
}

const json = (text: string): unknown => JSON.parse(text);

describe('webhook channel', () => {
  let server: TestServer;
  before(async () => (server = await startHttp(respond(204, ''))));
  after(() => server.close());

  it('POSTs the alert as JSON, unsigned without a secret', async () => {
    await deliver({ type: 'webhook', name: 'hook', url: `${server.url}/hook` }, alert);
    const [req] = server.requests.splice(0);
    assert.ok(req);
    assert.equal(req.method, 'POST');
    assert.equal(req.url, '/hook');
    assert.match(req.headers['content-type'] ?? '', /^application\/json/);
    assert.deepEqual(json(req.body), alert);
    assert.deepEqual(Object.keys(json(req.body) as object), [
      'event',
      'taskId',
      'severity',
      'at',
      'summary',
      'details',
    ]);
    assert.equal(req.headers['x-surecron-signature'], undefined);
    assert.equal(req.headers['x-surecron-timestamp'], undefined);
  });

  it("an open alert's id comes first, for the receiver to acknowledge it by", async () => {
    const id = '6f1c2a9e-8b1d-4e2f-9a3b-5c7d8e9f0a1b';
    await deliver({ type: 'webhook', name: 'hook', url: `${server.url}/hook` }, { ...alert, id });
    const [req] = server.requests.splice(0);
    assert.deepEqual(Object.keys(json(req?.body ?? '{}') as object)[0], 'id');
    assert.deepEqual(json(req?.body ?? '{}'), { ...alert, id });
  });

  it('signs `<timestamp>.<raw body>` with HMAC-SHA256 when a secret is set', async () => {
    const secret = 's3cret-value';
    await deliver({ type: 'webhook', name: 'signed', url: server.url, secret }, alert);
    const [req] = server.requests.splice(0);
    assert.ok(req);
    const timestamp = String(req.headers['x-surecron-timestamp']);
    assert.match(timestamp, /^\d+$/);
    assert.ok(Math.abs(Number(timestamp) - Date.now() / 1000) < 60, 'timestamp is unix seconds, now');
    const expected = createHmac('sha256', secret).update(`${timestamp}.${req.body}`).digest('hex');
    assert.equal(req.headers['x-surecron-signature'], `sha256=${expected}`);
    assert.deepEqual(json(req.body), alert);
  });

  it('serialises Error details as { name, message }', async () => {
    await deliver(
      { type: 'webhook', name: 'hook', url: server.url },
      { ...alert, details: { error: new TypeError('boom') } },
    );
    const [req] = server.requests.splice(0);
    assert.deepEqual((json(req?.body ?? '') as Alert).details, { error: { name: 'TypeError', message: 'boom' } });
  });

  it('uses the injected fetch', async () => {
    const calls: string[] = [];
    const fetch: typeof globalThis.fetch = async (input) => {
      calls.push(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
      return new Response('ok');
    };
    await deliver({ type: 'webhook', name: 'hook', url: 'https://hooks.example.com/x' }, alert, { fetch });
    assert.deepEqual(calls, ['https://hooks.example.com/x']);
  });
});

describe('delivery failures', () => {
  it('throws on HTTP 500, with the status and a redacted URL', async () => {
    const server = await startHttp(respond(500, 'upstream exploded'));
    try {
      const error = await deliveryFails(
        deliver({ type: 'wecom', name: 'ops-wecom', url: `${server.url}/send?key=SECRET-KEY` }, alert),
        'ops-wecom',
        /HTTP 500: upstream exploded/,
      );
      assert.equal(error.status, 500);
      assert.doesNotMatch(error.message, /SECRET-KEY/);
      assert.match(error.message, /key=\*\*\*/);
    } finally {
      await server.close();
    }
  });

  it('throws on timeout', async () => {
    const server = await startHttp(() => {}); // never answers
    try {
      const started = Date.now();
      await deliveryFails(
        deliver({ type: 'slack', name: 'slow', url: server.url }, alert, { timeoutMs: 200 }),
        'slow',
        /timed out after 200 ms/,
      );
      assert.ok(Date.now() - started < 2000);
    } finally {
      await server.close();
    }
  });

  it('throws when nothing listens', async () => {
    const server = await startHttp(respond(200, ''));
    const url = server.url;
    await server.close();
    await deliveryFails(deliver({ type: 'webhook', name: 'gone', url }, alert), 'gone', /ECONNREFUSED/);
  });
});

describe('slack channel', () => {
  let server: TestServer;
  before(async () => (server = await startHttp((_req, res) => res.writeHead(200).end('ok'))));
  after(() => server.close());

  it('posts text fallback and blocks with mrkdwn fields', async () => {
    await deliver({ type: 'slack', name: 'ops-slack', url: `${server.url}/services/T0/B0/XYZ` }, alert);
    const [req] = server.requests.splice(0);
    assert.equal(req?.url, '/services/T0/B0/XYZ');
    assert.deepEqual(json(req?.body ?? ''), {
      text: '[P1] run_failed: nightly-report — Run failed after 3 attempts: exit code 2',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: '[P1] run_failed: nightly-report', emoji: true } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: 'Run failed after 3 attempts: exit code 2' },
          fields: [
            { type: 'mrkdwn', text: '*Task*\nnightly-report' },
            { type: 'mrkdwn', text: '*Event*\nrun_failed' },
            { type: 'mrkdwn', text: '*Severity*\nP1' },
            { type: 'mrkdwn', text: '*At*\n2025-01-02T03:04:05.000Z' },
          ],
        },
        {
          type: 'section',
          text: {
            type: 'mrkdwn',
            text: '*nominalTime:* 2025-01-02T03:00:00.000Z\n*attempts:* 3\n*error:* exit code 2\n*streak:* {"count":2}',
          },
        },
      ],
    });
  });

  it('escapes &, < and > in mrkdwn', async () => {
    await deliver(
      { type: 'slack', name: 'ops-slack', url: server.url },
      { ...alert, summary: 'a<b> & c', details: {} },
    );
    const body = json(server.requests.splice(0)[0]?.body ?? '') as { text: string; blocks: unknown[] };
    assert.equal(body.text, '[P1] run_failed: nightly-report — a&lt;b&gt; &amp; c');
    assert.equal(body.blocks.length, 2);
  });
});

describe('wecom channel', () => {
  let reply = respond(200, { errcode: 0, errmsg: 'ok' });
  let server: TestServer;
  before(async () => (server = await startHttp((req, res) => reply(req, res))));
  after(() => server.close());

  it('posts a markdown message and accepts errcode 0', async () => {
    await deliver({ type: 'wecom', name: 'ops-wecom', url: `${server.url}/cgi-bin/webhook/send?key=k1` }, alert);
    const [req] = server.requests.splice(0);
    assert.equal(req?.url, '/cgi-bin/webhook/send?key=k1');
    assert.deepEqual(json(req?.body ?? ''), {
      msgtype: 'markdown',
      markdown: {
        content: [
          '### <font color="warning">[P1] run_failed: nightly-report</font>',
          'Run failed after 3 attempts: exit code 2',
          '> **Task:** nightly-report',
          '> **Event:** run_failed',
          '> **Severity:** <font color="warning">P1</font>',
          '> **At:** 2025-01-02T03:04:05.000Z',
          '> **nominalTime:** 2025-01-02T03:00:00.000Z',
          '> **attempts:** 3',
          '> **error:** exit code 2',
          '> **streak:** {"count":2}',
        ].join('\n'),
      },
    });
  });

  it('keeps content within 4096 bytes', async () => {
    await deliver({ type: 'wecom', name: 'w', url: server.url }, { ...alert, summary: '失败'.repeat(3000) });
    const body = json(server.requests.splice(0)[0]?.body ?? '') as { markdown: { content: string } };
    assert.ok(Buffer.byteLength(body.markdown.content) <= 4096);
    assert.ok(body.markdown.content.endsWith('…'));
  });

  it('throws on a non-zero errcode', async () => {
    reply = respond(200, { errcode: 93000, errmsg: 'invalid webhook url' });
    await deliveryFails(
      deliver({ type: 'wecom', name: 'ops-wecom', url: server.url }, alert),
      'ops-wecom',
      /errcode 93000: invalid webhook url/,
    );
  });

  it('throws on a non-JSON answer', async () => {
    reply = respond(200, '<html>gateway</html>');
    await deliveryFails(deliver({ type: 'wecom', name: 'w', url: server.url }, alert), 'w', /non-JSON/);
  });
});

describe('dingtalk channel', () => {
  let reply = respond(200, { errcode: 0, errmsg: 'ok' });
  let server: TestServer;
  before(async () => (server = await startHttp((req, res) => reply(req, res))));
  after(() => server.close());

  const payload = {
    msgtype: 'markdown',
    markdown: {
      title: '[P1] run_failed: nightly-report',
      text: [
        '### surecron [P1] run_failed: nightly-report',
        '',
        'Run failed after 3 attempts: exit code 2',
        '',
        '- **Task:** nightly-report',
        '- **Event:** run_failed',
        '- **Severity:** P1',
        '- **At:** 2025-01-02T03:04:05.000Z',
        '- **nominalTime:** 2025-01-02T03:00:00.000Z',
        '- **attempts:** 3',
        '- **error:** exit code 2',
        '- **streak:** {"count":2}',
      ].join('\n'),
    },
  };

  it('posts markdown with 加签 timestamp and sign', async () => {
    const secret = 'SEC0123456789abcdef';
    await deliver(
      { type: 'dingtalk', name: 'ops-ding', url: `${server.url}/robot/send?access_token=tok`, secret },
      alert,
    );
    const [req] = server.requests.splice(0);
    assert.ok(req);
    const url = new URL(req.url, server.url);
    assert.equal(url.pathname, '/robot/send');
    assert.equal(url.searchParams.get('access_token'), 'tok');
    const timestamp = url.searchParams.get('timestamp') ?? '';
    assert.match(timestamp, /^\d{13}$/);
    assert.ok(Math.abs(Number(timestamp) - Date.now()) < 60_000, 'timestamp within 60 s');
    const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
    assert.equal(url.searchParams.get('sign'), sign);
    assert.ok(req.url.endsWith(`&sign=${encodeURIComponent(sign)}`), 'sign is URL-encoded');
    assert.deepEqual(json(req.body), payload);
  });

  it('sends no timestamp/sign without a secret', async () => {
    await deliver({ type: 'dingtalk', name: 'ops-ding', url: `${server.url}/robot/send?access_token=tok` }, alert);
    const [req] = server.requests.splice(0);
    assert.equal(req?.url, '/robot/send?access_token=tok');
    assert.deepEqual(json(req?.body ?? ''), payload);
  });

  it('throws on a non-zero errcode', async () => {
    reply = respond(200, { errcode: 310000, errmsg: 'sign not match' });
    await deliveryFails(
      deliver({ type: 'dingtalk', name: 'ops-ding', url: server.url, secret: 'x' }, alert),
      'ops-ding',
      /errcode 310000: sign not match/,
    );
  });
});

interface Mail {
  from: string;
  to: string[];
  raw: string;
}

/** Headers (unfolded, lower-cased) and the decoded text body of a raw single-part message. */
function parseMail(raw: string): { headers: Map<string, string>; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const headers = new Map<string, string>();
  for (const line of raw
    .slice(0, split)
    .replace(/\r\n[ \t]+/g, ' ')
    .split('\r\n')) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
  }
  let body = raw.slice(split + 4);
  if (headers.get('content-transfer-encoding') === 'quoted-printable') {
    const bytes = body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_m, hex: string) => `%${hex}`);
    body = decodeURIComponent(bytes);
  }
  return { headers, body: body.replace(/\r\n/g, '\n') };
}

describe('email channel', () => {
  const mails: Mail[] = [];
  let server: SMTPServer;
  let port = 0;
  before(async () => {
    server = new SMTPServer({
      authOptional: true,
      secure: false,
      logger: false, // also silences the default-certificate warning (STARTTLS stays advertised)
      onRcptTo(address, _session, callback) {
        if (address.address.startsWith('reject')) return callback(new Error('mailbox unavailable'));
        callback();
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const from = session.envelope.mailFrom;
          mails.push({
            from: from ? from.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw: Buffer.concat(chunks).toString('utf8'),
          });
          callback();
        });
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((resolve) => server.close(resolve)));

  const channel = (to: string[]): Channel => ({
    type: 'email',
    name: 'ops-mail',
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    from: 'surecron@example.com',
    to,
  });

  it('sends subject, recipients and a text body with summary and details', async () => {
    await deliver(channel(['oncall@example.com', 'lead@example.com']), alert);
    assert.equal(mails.length, 1);
    const mail = mails[0];
    assert.ok(mail);
    assert.equal(mail.from, 'surecron@example.com');
    assert.deepEqual(mail.to, ['oncall@example.com', 'lead@example.com']);
    const { headers, body } = parseMail(mail.raw);
    assert.equal(headers.get('subject'), '[surecron P1] run_failed: nightly-report');
    assert.equal(headers.get('to'), 'oncall@example.com, lead@example.com');
    assert.match(headers.get('content-type') ?? '', /^text\/plain/);
    assert.equal(
      body.trimEnd(),
      [
        'Run failed after 3 attempts: exit code 2',
        '',
        'Task:     nightly-report',
        'Event:    run_failed',
        'Severity: P1',
        'At:       2025-01-02T03:04:05.000Z',
        '',
        'Details:',
        '  nominalTime: 2025-01-02T03:00:00.000Z',
        '  attempts: 3',
        '  error: exit code 2',
        '  streak: {"count":2}',
      ].join('\n'),
    );
  });

  it('throws when the server rejects the recipient', async () => {
    await deliveryFails(deliver(channel(['reject@example.com']), alert), 'ops-mail', /SMTP 127\.0\.0\.1:\d+ failed/);
  });

  it('throws when no SMTP server listens', async () => {
    const closed = await startHttp(() => {});
    const url = new URL(closed.url);
    await closed.close();
    const dead = { ...channel(['x@example.com']), port: Number(url.port) } as Channel;
    await deliveryFails(deliver(dead, alert, { timeoutMs: 2000 }), 'ops-mail', /SMTP .* failed|timed out/);
  });
});

describe('redactUrl', () => {
  const cases: [string, string][] = [
    [
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693axxx6-7aoc-4bc4-97a0-0ec2sifa5aaa',
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***',
    ],
    [
      'https://oapi.dingtalk.com/robot/send?access_token=abc123&timestamp=1700000000000&sign=a%2Bb%3D',
      'https://oapi.dingtalk.com/robot/send?access_token=***&timestamp=1700000000000&sign=***',
    ],
    [
      'https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX',
      'https://hooks.slack.com/services/***/***/***',
    ],
    ['https://bot:pw@example.com/hook?token=t0k&x=1', 'https://bot:***@example.com/hook?token=***&x=1'],
    ['https://example.com/hook?a=1', 'https://example.com/hook?a=1'],
    ['not a url?key=secret', '***'],
  ];
  for (const [input, expected] of cases) {
    it(`redacts ${expected}`, () => assert.equal(redactUrl(input), expected));
  }
});

describe('channel config', () => {
  const dir = mkdtempSync(join(tmpdir(), 'surecron-alerts-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  /** Asserts that parsing `input` fails naming `field`, and returns the error. */
  function fails(input: unknown, field: string): AlertConfigError {
    try {
      parseAlertsConfig(input);
    } catch (error) {
      assert.ok(error instanceof AlertConfigError, `expected AlertConfigError, got ${String(error)}`);
      assert.equal(error.field, field, error.message);
      assert.ok(error.message.includes(field), error.message);
      return error;
    }
    assert.fail('parseAlertsConfig did not throw');
  }

  const slack = { type: 'slack', name: 'ops-slack', url: 'https://hooks.slack.com/services/T/B/X' };

  it('loads a YAML file from SURECRON_ALERTS_FILE', () => {
    const path = file(
      'alerts.yaml',
      [
        'channels:',
        '  - type: slack',
        '    name: ops-slack',
        '    url: https://hooks.slack.com/services/T/B/X',
        '    severities: [P0, P1]',
        '  - type: email',
        '    name: ops-mail',
        '    host: smtp.example.com',
        '    port: 587',
        '    user: u',
        '    pass: p',
        '    from: surecron@example.com',
        '    to: [oncall@example.com]',
        'routes:',
        '  P0: [ops-slack, ops-mail]',
        '  P1: [ops-slack]',
      ].join('\n'),
    );
    const config = loadChannels(undefined, { SURECRON_ALERTS_FILE: path });
    assert.deepEqual(
      config.channels.map((c) => [c.type, c.name]),
      [
        ['slack', 'ops-slack'],
        ['email', 'ops-mail'],
      ],
    );
    assert.deepEqual(config.routes, { P0: ['ops-slack', 'ops-mail'], P1: ['ops-slack'] });
    assert.deepEqual(
      channelsFor(config, 'P0').map((c) => c.name),
      ['ops-slack', 'ops-mail'],
    );
    assert.deepEqual(
      channelsFor(config, 'P1').map((c) => c.name),
      ['ops-slack'],
    );
    assert.deepEqual(
      channelsFor(config, 'P2').map((c) => c.name),
      ['ops-mail'], // no P2 route: every channel whose severities allow P2
    );
  });

  it('escalateAfter: a duration for P1 and P2, read by the router; P0 has nowhere to go, a bad duration is refused', () => {
    const config = parseAlertsConfig({ channels: [slack], escalateAfter: { P1: '15m', P2: '1h' } });
    const router = createAlertRouter(config, async () => Promise.resolve());
    assert.deepEqual(
      (['P0', 'P1', 'P2'] as const).map((severity) => router.escalateAfterMs(severity)),
      [undefined, 900_000, 3_600_000],
    );
    fails({ channels: [slack], escalateAfter: { P0: '5m' } }, 'escalateAfter.P0');
    assert.match(
      fails({ channels: [slack], escalateAfter: { P1: 'soon' } }, 'escalateAfter.P1').message,
      /"soon" is not a duration/,
    );
    fails({ channels: [slack], escalateAfter: { P2: '500ms' } }, 'escalateAfter.P2');
  });

  it('loads a JSON file and adds the env webhook to every route', () => {
    const path = file('alerts.json', JSON.stringify({ channels: [slack], routes: { P1: ['ops-slack'] } }));
    const config = loadChannels(path, { SURECRON_ALERT_WEBHOOK_URL: 'https://hooks.example.com/in' });
    assert.deepEqual(
      config.channels.map((c) => c.name),
      ['ops-slack', 'default-webhook'],
    );
    for (const severity of ['P0', 'P1', 'P2'] as const) {
      assert.ok(
        channelsFor(config, severity).some((c) => c.name === 'default-webhook'),
        severity,
      );
    }
  });

  it('returns no channels when nothing is configured', () => {
    assert.deepEqual(loadChannels(undefined, {}), { channels: [] });
  });

  it('channelFromEnv configures default-webhook from SURECRON_ALERT_WEBHOOK_URL (+ secret)', () => {
    assert.equal(channelFromEnv({}), undefined);
    assert.equal(channelFromEnv({ SURECRON_ALERT_WEBHOOK_URL: '  ' }), undefined);
    assert.deepEqual(channelFromEnv({ SURECRON_ALERT_WEBHOOK_URL: 'https://h.example.com/x' }), {
      type: 'webhook',
      name: 'default-webhook',
      url: 'https://h.example.com/x',
    });
    assert.deepEqual(
      channelFromEnv({ SURECRON_ALERT_WEBHOOK_URL: 'https://h.example.com/x', SURECRON_ALERT_WEBHOOK_SECRET: 'sh' }),
      { type: 'webhook', name: 'default-webhook', url: 'https://h.example.com/x', secret: 'sh' },
    );
    assert.throws(
      () => channelFromEnv({ SURECRON_ALERT_WEBHOOK_URL: 'ftp://h.example.com/x' }),
      (error: unknown) => error instanceof AlertConfigError && error.field === 'SURECRON_ALERT_WEBHOOK_URL',
    );
  });

  it('names the field of an invalid URL, with the channel name', () => {
    const error = fails({ channels: [slack, { type: 'wecom', name: 'ops-wecom', url: 'nope' }] }, 'channels[1].url');
    assert.match(error.message, /ops-wecom/);
  });

  it('names the field of other invalid values', () => {
    fails({}, 'channels');
    fails({ channels: [{ type: 'pager', name: 'x' }] }, 'channels[0].type');
    fails({ channels: [{ ...slack, severities: ['P1', 'P3'] }] }, 'channels[0].severities[1]');
    fails({ channels: [{ ...slack, secrte: 'x' }] }, 'channels[0].secrte');
    fails({ channels: [slack, slack] }, 'channels[1].name');
    fails({ channels: [slack], routes: { P0: ['ops-slack', 'nobody'] } }, 'routes.P0[1]');
    fails({ channels: [slack], routes: { P4: [] } }, 'routes.P4');
    const email = { type: 'email', name: 'm', host: 'h', port: 25, from: 'a@b', to: ['c@d'] };
    fails({ channels: [{ ...email, user: 'u' }] }, 'channels[0].pass');
    fails({ channels: [{ ...email, port: 70000 }] }, 'channels[0].port');
    fails({ channels: [{ ...email, to: [] }] }, 'channels[0].to');
  });

  it('reports unreadable and malformed files', () => {
    assert.throws(() => loadChannels(join(dir, 'missing.yaml'), {}), AlertConfigError);
    assert.throws(() => loadChannels(file('bad.yaml', 'channels: [\n'), {}), AlertConfigError);
  });

  it('reserves the default-webhook name when the env webhook is set', () => {
    const path = file('dup.json', JSON.stringify({ channels: [{ ...slack, name: 'default-webhook' }] }));
    assert.throws(
      () => loadChannels(path, { SURECRON_ALERT_WEBHOOK_URL: 'https://h.example.com/x' }),
      (error: unknown) => error instanceof AlertConfigError && error.field === 'SURECRON_ALERT_WEBHOOK_URL',
    );
  });
});
