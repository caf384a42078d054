/**
 * Dialect fidelity: each dialect against the implementation it is named after.
 *
 * - 6 fields and macros: robfig/cron v3 with `cron.WithSeconds()`, through the fire times robfig itself computed
 *   (`test/fixtures/robfig-fires.json`, written by `scripts/robfig-fixtures`).
 * - 5 fields: Vixie cron / cronie, as crontab(5) documents them and cronie's `entry.c` decides the day-field OR.
 * - 7 fields: Quartz, as its `CronExpression` documentation describes it.
 *
 * Where surecron deliberately differs (README "Cron dialects"), the test says how, with concrete fire times.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { compileRule, nextCalendarTime, nextIntervalTime } from '../../src/cron/next.js';
import { parseCron, type ParsedCron } from '../../src/cron/parse.js';

interface RobfigCase {
  spec: string;
  about: string;
  from: string;
  fires?: string[];
  error?: string;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/robfig-fires.json', import.meta.url), 'utf8')) as {
  library: string;
  cases: RobfigCase[];
};

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

function parsed(expression: string): ParsedCron {
  const result = parseCron(expression);
  if (!result.ok) assert.fail(`"${expression}" was refused: ${result.error}`);
  return result.value;
}

/** The next `count` fire times after `from`, as the Temporal server walks the translated spec. */
function fires(expression: string, from: string, count = 6): string[] {
  const value = parsed(expression);
  const out: string[] = [];
  let at = Date.parse(from);
  if (value.kind === 'interval') {
    for (let i = 0; i < count; i++) out.push(iso((at = nextIntervalTime(value.everyMs, 0, at))));
    return out;
  }
  const rules = value.rules.map(compileRule);
  const zone = value.timezone ?? 'UTC';
  for (let i = 0; i < count; i++) {
    const next = Math.min(...rules.map((rule) => nextCalendarTime(rule, at, zone) ?? Infinity));
    if (!Number.isFinite(next)) break;
    out.push(iso((at = next)));
  }
  return out;
}

function refusal(expression: string): string {
  const result = parseCron(expression);
  if (result.ok) assert.fail(`"${expression}" was accepted: ${JSON.stringify(result.value)}`);
  return result.error;
}

describe(`6 fields and macros: robfig/cron (${fixture.library}, its own fire times)`, () => {
  /** robfig accepts these; surecron refuses them (README: stricter on purpose), with this message. */
  const stricter: Record<string, string> = {
    '? 0 0 * * *': 'second field "?": "?" is only allowed in day-of-month and day-of-week',
    '0 0 0 ?/5 * MON': 'day-of-month field "?/5": "?" must stand alone',
    '*/61 * * * * *': 'second field "*/61": step 61 is larger than the field\'s range',
    '0 0 0 1,,15 * *': 'day-of-month field "1,,15": empty list item',
    '@every 500ms': '@every "500ms": must be a duration of at least 1s, e.g. "@every 1h30m"',
  };
  /** robfig refuses these; surecron reads them (README: lenient on purpose), firing as listed from 2012-07-09. */
  const lenient: Record<string, string[]> = {
    // 7 is Sunday, as in Vixie cron; robfig's day-of-week ends at 6.
    '0 0 0 * * 7': ['2012-07-15T00:00:00Z', '2012-07-22T00:00:00Z', '2012-07-29T00:00:00Z'],
    '0 0 0 * * 5-7': ['2012-07-13T00:00:00Z', '2012-07-14T00:00:00Z', '2012-07-15T00:00:00Z'],
    // `#` is Quartz's; the second Monday.
    '0 0 0 * * MON#2': ['2012-08-13T00:00:00Z', '2012-09-10T00:00:00Z', '2012-10-08T00:00:00Z'],
    // Macros are case-insensitive.
    '@DAILY': ['2012-07-10T00:00:00Z', '2012-07-11T00:00:00Z', '2012-07-12T00:00:00Z'],
  };
  /** Both accept; surecron counts `@every` from the epoch, robfig from the schedule's start. */
  const epochAligned: Record<string, string[]> = {
    '@every 1h30m@2012-07-09T10:17:23Z': ['2012-07-09T10:30:00Z', '2012-07-09T12:00:00Z', '2012-07-09T13:30:00Z'],
    '@every 1.5h@2012-07-09T10:17:23Z': ['2012-07-09T10:30:00Z', '2012-07-09T12:00:00Z', '2012-07-09T13:30:00Z'],
    '@every 90s@2012-07-09T10:17:23Z': ['2012-07-09T10:18:00Z', '2012-07-09T10:19:30Z', '2012-07-09T10:21:00Z'],
  };

  for (const c of fixture.cases) {
    it(`${c.spec} from ${c.from}: ${c.about}`, () => {
      const key = `${c.spec}@${c.from}`;
      if (c.error !== undefined) {
        const mine = lenient[c.spec];
        if (mine) assert.deepEqual(fires(c.spec, c.from, mine.length), mine);
        else refusal(c.spec);
      } else if (stricter[c.spec] !== undefined) {
        assert.equal(refusal(c.spec), stricter[c.spec]);
      } else if (epochAligned[key]) {
        const mine = epochAligned[key];
        assert.deepEqual(fires(c.spec, c.from, mine.length), mine);
        assert.notDeepEqual(fires(c.spec, c.from), c.fires);
      } else {
        assert.deepEqual(fires(c.spec, c.from), c.fires);
      }
    });
  }

  it('covers every deliberate difference it lists', () => {
    const specs = new Set(fixture.cases.map((c) => c.spec));
    const keys = new Set(fixture.cases.map((c) => `${c.spec}@${c.from}`));
    for (const spec of [...Object.keys(stricter), ...Object.keys(lenient)]) assert.ok(specs.has(spec), spec);
    for (const key of Object.keys(epochAligned)) assert.ok(keys.has(key), key);
  });

  it('issue 11: `*/5` restricts day-of-month, so `0 0 0 */5 Apr,Aug,Oct Mon` fires on 2012-08-01', () => {
    assert.deepEqual(fires('0 0 0 */5 Apr,Aug,Oct Mon', '2012-07-09T00:00:00Z', 3), [
      '2012-08-01T00:00:00Z', // day 1 of */5, a Wednesday
      '2012-08-06T00:00:00Z', // day 6 and a Monday
      '2012-08-11T00:00:00Z', // day 11, a Saturday
    ]);
  });

  it('the same day fields in 5 fields follow Vixie cron instead: `*/5` is unrestricted there (AND)', () => {
    assert.deepEqual(fires('0 0 */5 Apr,Aug,Oct Mon', '2012-07-09T00:00:00Z', 2), [
      '2012-08-06T00:00:00Z',
      '2012-10-01T00:00:00Z',
    ]);
  });

  it("@every: phase = start mod interval would give robfig's start-aligned fires (the schedule.ts change)", () => {
    for (const c of fixture.cases.filter((x) => x.spec.startsWith('@every') && x.fires)) {
      const value = parseCron(c.spec);
      if (!value.ok || value.value.kind !== 'interval') continue;
      const everyMs = value.value.everyMs;
      const start = Date.parse(c.from);
      const offsetMs = start % everyMs;
      const out: string[] = [];
      for (let at = start, i = 0; i < (c.fires?.length ?? 0); i++)
        out.push(iso((at = nextIntervalTime(everyMs, offsetMs, at))));
      assert.deepEqual(out, c.fires, c.spec);
    }
  });
});

describe('5 fields: Vixie cron / cronie, as crontab(5) documents them', () => {
  const from = '2026-06-01T00:00:00Z'; // a Monday

  it('"If both fields are restricted (i.e., do not contain the "*" character), the command will be run when either field matches … "30 4 1,15 * 5" … at 4:30 am on the 1st and 15th of each month, plus every Friday"', () => {
    assert.deepEqual(fires('30 4 1,15 * 5', from, 7), [
      '2026-06-01T04:30:00Z',
      '2026-06-05T04:30:00Z',
      '2026-06-12T04:30:00Z',
      '2026-06-15T04:30:00Z',
      '2026-06-19T04:30:00Z',
      '2026-06-26T04:30:00Z',
      '2026-07-01T04:30:00Z',
    ]);
  });

  it('"day of week 0-7 (0 or 7 is Sunday, or use names)"; "5 4 * * sun … run at 5 after 4 every sunday"', () => {
    const sundays = ['2026-06-07T04:05:00Z', '2026-06-14T04:05:00Z', '2026-06-21T04:05:00Z'];
    assert.deepEqual(fires('5 4 * * sun', from, 3), sundays);
    assert.deepEqual(fires('5 4 * * 0', from, 3), sundays);
    assert.deepEqual(fires('5 4 * * 7', from, 3), sundays);
  });

  it('"23 0-23/2 * * * … run 23 minutes after midn, 2am, 4am ..., everyday"; "*/2" is the same', () => {
    const expected = ['2026-06-01T00:23:00Z', '2026-06-01T02:23:00Z', '2026-06-01T04:23:00Z', '2026-06-01T06:23:00Z'];
    assert.deepEqual(fires('23 0-23/2 * * *', from, 4), expected);
    assert.deepEqual(fires('23 */2 * * *', from, 4), expected);
  });

  it('"0 22 * * 1-5 … run at 10 pm on weekdays"; "15 14 1 * * … run at 2:15pm on the first of every month"', () => {
    assert.deepEqual(fires('0 22 * * 1-5', from, 6), [
      '2026-06-01T22:00:00Z',
      '2026-06-02T22:00:00Z',
      '2026-06-03T22:00:00Z',
      '2026-06-04T22:00:00Z',
      '2026-06-05T22:00:00Z',
      '2026-06-08T22:00:00Z',
    ]);
    assert.deepEqual(fires('15 14 1 * *', from, 2), ['2026-06-01T14:15:00Z', '2026-07-01T14:15:00Z']);
  });

  it("cronie entry.c `if (ch == '*') e->flags |= DOM_STAR;`: a day field starting with `*` is unrestricted, steps and all", () => {
    // Odd days that are Mondays (AND) …
    assert.deepEqual(fires('0 0 */2 * MON', from, 4), [
      '2026-06-15T00:00:00Z',
      '2026-06-29T00:00:00Z',
      '2026-07-13T00:00:00Z',
      '2026-07-27T00:00:00Z',
    ]);
    // … while the same days spelt as a range are a restriction: odd days or Mondays (OR).
    assert.deepEqual(fires('0 0 1-31/2 * MON', from, 4), [
      '2026-06-03T00:00:00Z',
      '2026-06-05T00:00:00Z',
      '2026-06-07T00:00:00Z',
      '2026-06-08T00:00:00Z',
    ]);
  });

  it('only the first character counts: `*,10` is unrestricted (Tuesdays), `10,*` restricts (every day, by OR)', () => {
    assert.deepEqual(fires('0 12 *,10 * 2', from, 3), [
      '2026-06-02T12:00:00Z',
      '2026-06-09T12:00:00Z',
      '2026-06-16T12:00:00Z',
    ]);
    assert.deepEqual(fires('0 12 10,* * 2', from, 3), [
      '2026-06-01T12:00:00Z',
      '2026-06-02T12:00:00Z',
      '2026-06-03T12:00:00Z',
    ]);
  });

  it('the nicknames: "@yearly … "0 0 1 1 *"", "@monthly … "0 0 1 * *"", "@weekly … "0 0 * * 0"", "@daily … "0 0 * * *"", "@hourly … "0 * * * *""', () => {
    for (const [macro, expansion] of [
      ['@yearly', '0 0 1 1 *'],
      ['@annually', '0 0 1 1 *'],
      ['@monthly', '0 0 1 * *'],
      ['@weekly', '0 0 * * 0'],
      ['@daily', '0 0 * * *'],
      ['@hourly', '0 * * * *'],
    ] as const) {
      assert.deepEqual(fires(macro, from, 3), fires(expansion, from, 3), macro);
    }
    assert.deepEqual(fires('@weekly', from, 2), ['2026-06-07T00:00:00Z', '2026-06-14T00:00:00Z']);
    // "@reboot : Run once after reboot." has no meaning for a schedule.
    assert.match(refusal('@reboot'), /^unknown macro "@reboot"/);
  });

  it('"CRON_TZ … specifies the time zone specific for the cron table" (the man page\'s CRON_TZ=Japan, 5 0 * * *)', () => {
    assert.equal(parsed('CRON_TZ=Japan 5 0 * * *').timezone, 'Asia/Tokyo');
    assert.deepEqual(fires('CRON_TZ=Japan 5 0 * * *', from, 2), ['2026-06-01T15:05:00Z', '2026-06-02T15:05:00Z']);
  });

  it('wrap-around ranges are refused, as cronie refuses `num1 > num2`', () => {
    assert.equal(refusal('0 22-2 * * *'), 'hour field "22-2": range 22-2 runs backwards');
  });
});

describe('7 fields: Quartz, as its CronExpression documentation describes it', () => {
  const from = '2026-06-01T00:00:00Z';

  it('"6#3 … the third Friday of the month (day 6 = Friday and "#3" = the 3rd one in the month)"', () => {
    assert.deepEqual(fires('0 15 10 ? * 6#3 *', from, 3), [
      '2026-06-19T10:15:00Z',
      '2026-07-17T10:15:00Z',
      '2026-08-21T10:15:00Z',
    ]);
    assert.deepEqual(fires('0 15 10 ? * FRI#3 *', from, 3), fires('0 15 10 ? * 6#3 *', from, 3));
  });

  it("without the year field the same text is robfig's (0 = Sunday): 6#3 is the third Saturday", () => {
    assert.deepEqual(fires('0 15 10 ? * 6#3', from, 2), ['2026-06-20T10:15:00Z', '2026-07-18T10:15:00Z']);
  });

  it('day-of-week "1-7 or SUN-SAT": 1 is Sunday, 7 Saturday', () => {
    assert.deepEqual(fires('0 0 12 ? * 1 *', from, 1), ['2026-06-07T12:00:00Z']);
    assert.deepEqual(fires('0 0 12 ? * SUN *', from, 1), ['2026-06-07T12:00:00Z']);
    assert.deepEqual(fires('0 0 12 ? * 7 *', from, 1), ['2026-06-06T12:00:00Z']);
    assert.deepEqual(fires('0 15 10 ? * MON-FRI *', from, 6), [
      '2026-06-01T10:15:00Z',
      '2026-06-02T10:15:00Z',
      '2026-06-03T10:15:00Z',
      '2026-06-04T10:15:00Z',
      '2026-06-05T10:15:00Z',
      '2026-06-08T10:15:00Z',
    ]);
  });

  it('"0 0 12 1/5 * ? … every 5 days every month, starting on the first day of the month"', () => {
    assert.deepEqual(fires('0 0 12 1/5 * ? *', from, 8), [
      '2026-06-01T12:00:00Z',
      '2026-06-06T12:00:00Z',
      '2026-06-11T12:00:00Z',
      '2026-06-16T12:00:00Z',
      '2026-06-21T12:00:00Z',
      '2026-06-26T12:00:00Z',
      '2026-07-01T12:00:00Z',
      '2026-07-06T12:00:00Z',
    ]);
  });

  it('"0 10,44 14 ? 3 WED … at 2:10pm and at 2:44pm every Wednesday in the month of March"', () => {
    assert.deepEqual(fires('0 10,44 14 ? 3 WED *', from, 4), [
      '2027-03-03T14:10:00Z',
      '2027-03-03T14:44:00Z',
      '2027-03-10T14:10:00Z',
      '2027-03-10T14:44:00Z',
    ]);
  });

  it('"0 0/5 14 * * ? … every 5 minutes starting at 2pm and ending at 2:55pm"; "0 11 11 11 11 ? … every November 11th at 11:11am"', () => {
    const fiveMinutes = fires('0 0/5 14 * * ? *', from, 13);
    assert.equal(fiveMinutes[0], '2026-06-01T14:00:00Z');
    assert.equal(fiveMinutes[11], '2026-06-01T14:55:00Z');
    assert.equal(fiveMinutes[12], '2026-06-02T14:00:00Z');
    assert.deepEqual(fires('0 11 11 11 11 ? *', from, 2), ['2026-11-11T11:11:00Z', '2027-11-11T11:11:00Z']);
  });

  it("\"you'll need to use the '?' character in one of these fields\": both restricted is refused, a step restricts", () => {
    const message = 'day-of-month and day-of-week are both restricted; Quartz requires "?" in one of them';
    assert.equal(refusal('0 0 12 1 * MON *'), message);
    assert.equal(refusal('0 0 12 */5 * MON *'), message);
  });

  it('more lenient than Quartz (README): a plain `*` on one side, or `?` on both, is accepted', () => {
    assert.deepEqual(fires('0 0 12 * * MON *', from, 2), ['2026-06-01T12:00:00Z', '2026-06-08T12:00:00Z']);
    assert.deepEqual(fires('0 0 12 ? * ? *', from, 2), ['2026-06-01T12:00:00Z', '2026-06-02T12:00:00Z']);
  });
});
