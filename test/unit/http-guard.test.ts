import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHttpGuard } from '../../src/security/http-guard.js';
import { testRules } from '../helpers/rules.js';
import type { TaskSpecInput } from '../../src/tasks/spec.js';
import { TaskValidationError, type ValidationIssue } from '../../src/tasks/errors.js';
import { validateTask } from '../../src/tasks/validate.js';

describe('createHttpGuard', () => {
  const guard = createHttpGuard('');

  const refused: [url: string, reason: RegExp][] = [
    ['http://127.0.0.1/', /loopback/],
    ['http://127.0.0.1:8080/hook', /loopback/],
    ['http://[::1]/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['http://2130706433/', /loopback/], // 127.0.0.1 as one number; the URL parser normalises it
    ['http://10.0.0.1/', /private/],
    ['http://10.255.1.2/', /private/],
    ['http://172.16.0.1/', /private/],
    ['http://172.31.255.255/', /private/],
    ['http://192.168.1.1/', /private/],
    ['http://169.254.169.254/latest/meta-data/', /linkLocal/],
    ['http://[fc00::1]/', /uniqueLocal/],
    ['http://[fd12:3456::1]/', /uniqueLocal/],
    ['http://[fe80::1]/', /linkLocal/],
    ['http://0.0.0.0/', /unspecified/],
    ['http://100.64.0.1/', /carrierGradeNat/],
    ['http://localhost/', /localhost is loopback/],
    ['http://LOCALHOST:3000/', /localhost is loopback/],
    ['http://foo.localhost/', /foo\.localhost is loopback/],
    ['ftp://example.com/file', /scheme "ftp:" is not http\(s\)/],
    ['file:///etc/passwd', /scheme "file:" is not http\(s\)/],
    ['not a url', /is not a URL/],
  ];
  for (const [url, reason] of refused) {
    it(`refuses ${url}`, () => {
      const why = guard.refuse(url);
      assert.ok(why, `${url} should be refused`);
      assert.match(why, reason);
    });
  }

  it('names the allow-list in the reason for a blocked address', () => {
    assert.equal(
      guard.refuse('http://10.1.2.3/'),
      '10.1.2.3 is a private address; add it to SURECRON_HTTP_ALLOWLIST to allow it',
    );
  });

  for (const url of [
    'https://example.com',
    'https://example.com/path?q=1',
    'http://93.184.216.34',
    'http://93.184.216.34:8080/x',
    'http://172.32.0.1/', // just outside 172.16.0.0/12
    'https://[2606:2800:220:1:248:1893:25c8:1946]/',
  ]) {
    it(`allows the public target ${url}`, () => {
      assert.equal(guard.refuse(url), undefined);
    });
  }

  it('an allow-listed host name lets that exact host through, and only it', () => {
    const g = createHttpGuard('localhost, internal.corp');
    assert.equal(g.refuse('http://localhost:8080/'), undefined);
    assert.equal(g.refuse('http://internal.corp/hook'), undefined);
    assert.match(g.refuse('http://foo.localhost/') ?? '', /loopback/);
    assert.match(g.refuse('http://127.0.0.1/') ?? '', /loopback/, 'a host name does not allow its address');
  });

  it('an allow-listed CIDR lets its addresses through, and only them', () => {
    const g = createHttpGuard('127.0.0.1/32,10.0.0.0/8');
    assert.equal(g.refuse('http://127.0.0.1:9000/'), undefined);
    assert.equal(g.refuse('http://[::ffff:127.0.0.1]/'), undefined, 'an IPv4-mapped address matches its IPv4 range');
    assert.equal(g.refuse('http://10.0.0.1/'), undefined);
    assert.equal(g.refuse('http://10.200.3.4/'), undefined);
    assert.match(g.refuse('http://127.0.0.2/') ?? '', /loopback/);
    assert.match(g.refuse('http://192.168.0.1/') ?? '', /private/);
    assert.match(g.refuse('http://169.254.169.254/') ?? '', /linkLocal/);
    assert.match(g.refuse('http://[::1]/') ?? '', /loopback/);
    assert.match(g.refuse('http://localhost/') ?? '', /loopback/);
  });

  it('a bare IP in the allow-list is a single-address range', () => {
    const g = createHttpGuard('192.168.1.10, ::1');
    assert.equal(g.refuse('http://192.168.1.10/'), undefined);
    assert.equal(g.refuse('http://[::1]/'), undefined);
    assert.match(g.refuse('http://192.168.1.11/') ?? '', /private/);
  });

  it('ignores blanks and case in the allow-list', () => {
    const g = createHttpGuard(' , Internal.Corp ,, 10.0.0.0/8 ,');
    assert.equal(g.refuse('http://internal.corp/'), undefined);
    assert.equal(g.refuse('http://10.1.1.1/'), undefined);
  });

  for (const entry of [
    'foo bar',
    'under_score.example',
    'http://x.example',
    '10.0.0.0/99',
    '10.0.0.0/abc',
    'fe80::/200',
  ]) {
    it(`throws on the malformed allow-list entry ${JSON.stringify(entry)}`, () => {
      assert.throws(() => createHttpGuard(`localhost,${entry}`), Error);
    });
  }

  it('the malformed-entry error names the entry and the setting', () => {
    assert.throws(() => createHttpGuard('foo bar'), {
      message: 'SURECRON_HTTP_ALLOWLIST: "foo bar" is neither a host name, an IP nor a CIDR',
    });
  });
});

describe('validateTask', () => {
  const rules = testRules('');
  const base: TaskSpecInput = {
    id: 'guarded-task',
    schedule: { cron: '0 * * * *' },
    handler: { type: 'function', name: 'heartbeat' },
  };

  function issuesOf(input: unknown, r = rules): ValidationIssue[] {
    try {
      validateTask(input, r);
    } catch (error) {
      assert.ok(error instanceof TaskValidationError, `expected TaskValidationError, got ${String(error)}`);
      assert.ok(error.issues.length > 0);
      return [...error.issues];
    }
    assert.fail('expected the task to be refused');
  }

  function issueAt(input: unknown, path: string, r = rules): ValidationIssue {
    const issues = issuesOf(input, r);
    const issue = issues.find((i) => i.path === path);
    assert.ok(issue, `expected an issue at ${path}, got ${JSON.stringify(issues)}`);
    return issue;
  }

  it('accepts a valid task and applies defaults', () => {
    const spec = validateTask(base, rules);
    assert.equal(spec.id, 'guarded-task');
    assert.equal(spec.overlap, 'skip');
    assert.equal(spec.paused, false);
  });

  it('refuses an http handler to 127.0.0.1 at creation, at handler.url', () => {
    const issue = issueAt({ ...base, handler: { type: 'http', url: 'http://127.0.0.1:8080/hook' } }, 'handler.url');
    assert.match(issue.message, /127\.0\.0\.1 is a loopback address/);
  });

  it('refuses an http handler to the metadata service and to localhost, at handler.url', () => {
    assert.match(
      issueAt({ ...base, handler: { type: 'http', url: 'http://169.254.169.254/' } }, 'handler.url').message,
      /linkLocal/,
    );
    assert.match(
      issueAt({ ...base, handler: { type: 'http', url: 'http://localhost/' } }, 'handler.url').message,
      /loopback/,
    );
  });

  it('accepts an http handler to 127.0.0.1 when the allow-list has it, and to a public host always', () => {
    const local = validateTask(
      { ...base, handler: { type: 'http', url: 'http://127.0.0.1:8080/' } },
      testRules('127.0.0.1'),
    );
    assert.equal(local.handler.type, 'http');
    const pub = validateTask({ ...base, handler: { type: 'http', url: 'https://example.com/hook' } }, rules);
    assert.deepEqual(pub.handler, { type: 'http', url: 'https://example.com/hook', method: 'POST' });
  });

  it('refuses a non-http(s) handler url', () => {
    const issues = issuesOf({ ...base, handler: { type: 'http', url: 'ftp://example.com/' } });
    assert.ok(
      issues.some((i) => i.path === 'handler.url'),
      JSON.stringify(issues),
    );
  });

  it('refuses an unknown function handler name, at handler.name', () => {
    const issue = issueAt({ ...base, handler: { type: 'function', name: 'noSuchHandler' } }, 'handler.name');
    assert.match(issue.message, /no function handler named "noSuchHandler"/);
    assert.match(issue.message, /heartbeat/, 'lists the known handlers');
  });

  it('refuses an unknown workflow handler name, at handler.name, and accepts syncOrders', () => {
    const issue = issueAt({ ...base, handler: { type: 'workflow', name: 'noSuchWorkflow' } }, 'handler.name');
    assert.match(issue.message, /no workflow named "noSuchWorkflow"/);
    assert.match(issue.message, /syncOrders/);
    assert.equal(
      issuesOf({ ...base, handler: { type: 'workflow', name: 'runTask' } }).find((i) => i.path === 'handler.name')
        ?.path,
      'handler.name',
      'runTask itself is not a handler',
    );
    assert.equal(
      validateTask({ ...base, handler: { type: 'workflow', name: 'syncOrders' } }, rules).handler.type,
      'workflow',
    );
  });

  it('refuses unknown fields at every level (strict)', () => {
    const top = issuesOf({ ...base, retires: { maxAttempts: 3 } });
    assert.ok(
      top.some((i) => /retires/.test(i.message)),
      JSON.stringify(top),
    );
    const nested = issuesOf({ ...base, retry: { maxAtempts: 3 } });
    assert.ok(
      nested.some((i) => i.path === 'retry' && /maxAtempts/.test(i.message)),
      JSON.stringify(nested),
    );
    const handler = issuesOf({ ...base, handler: { type: 'function', name: 'heartbeat', extra: 1 } });
    assert.ok(
      handler.some((i) => i.path.startsWith('handler') && /extra/.test(i.message)),
      JSON.stringify(handler),
    );
    const schedule = issuesOf({ ...base, schedule: { cron: '0 * * * *', tz: 'UTC' } });
    assert.ok(
      schedule.some((i) => i.path === 'schedule' && /tz/.test(i.message)),
      JSON.stringify(schedule),
    );
  });

  it('refuses bad durations at their path', () => {
    assert.match(
      issueAt({ ...base, retry: { initialInterval: '5 minutes' } }, 'retry.initialInterval').message,
      /not a duration/,
    );
    assert.match(issueAt({ ...base, timeouts: { attempt: '1.5h' } }, 'timeouts.attempt').message, /not a duration/);
    assert.match(issueAt({ ...base, timeouts: { attempt: '0s' } }, 'timeouts.attempt').message, /greater than zero/);
    assert.match(issueAt({ ...base, catchupWindow: '5s' }, 'catchupWindow').message, /at least 10s/);
    assert.match(issueAt({ ...base, schedule: { every: '500ms' } }, 'schedule.every').message, /at least 1s/);
  });

  it('refuses an unknown time zone at schedule.timezone', () => {
    const issue = issueAt(
      { ...base, schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus_Mons' } },
      'schedule.timezone',
    );
    assert.match(issue.message, /unknown time zone "Mars\/Olympus_Mons"/);
  });

  it('refuses a cron with a CRON_TZ prefix naming an unknown time zone', () => {
    const issue = issueAt({ ...base, schedule: { cron: 'CRON_TZ=Nowhere/City 0 9 * * *' } }, 'schedule.cron');
    assert.match(issue.message, /unknown time zone "Nowhere\/City"/);
  });

  it('refuses a bad cron at schedule.cron, naming the offending field', () => {
    const minute = issueAt({ ...base, schedule: { cron: '61 * * * *' } }, 'schedule.cron');
    assert.match(minute.message, /minute/i);
    const hour = issueAt({ ...base, schedule: { cron: '0 25 * * *' } }, 'schedule.cron');
    assert.match(hour.message, /hour/i);
    const month = issueAt({ ...base, schedule: { cron: '0 0 1 13 *' } }, 'schedule.cron');
    assert.match(month.message, /month/i);
    const count = issueAt({ ...base, schedule: { cron: '* * *' } }, 'schedule.cron');
    assert.match(count.message, /expected 5 fields/);
  });

  it('reports every problem at once', () => {
    const issues = issuesOf({
      ...base,
      schedule: { cron: '0 0 * * *', timezone: 'Not/AZone' },
      retry: { initialInterval: 'soon' },
      bogus: true,
    });
    const paths = issues.map((i) => i.path);
    assert.ok(paths.includes('schedule.timezone'), JSON.stringify(issues));
    assert.ok(paths.includes('retry.initialInterval'), JSON.stringify(issues));
    assert.ok(
      issues.some((i) => /bogus/.test(i.message)),
      JSON.stringify(issues),
    );
  });
});
