import type { CalendarSpec, Range } from '@temporalio/client';
import { encodeOptionalStructuredCalendarSpecs } from '@temporalio/client/lib/schedule-helpers.js';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ruleToCalendar, toRanges } from '../../src/cron/calendar.js';
import { parseCron, type CronRule } from '../../src/cron/parse.js';

const span = (start: number, end: number, step = 1): number[] => {
  const values: number[] = [];
  for (let v = start; v <= end; v += step) values.push(v);
  return values;
};

/** The values a list of ranges stands for, read as Temporal's server reads them. */
function expand(ranges: readonly Range<number>[]): number[] {
  return ranges.flatMap(({ start, end, step }) => span(start, end, step));
}

function calendars(expression: string): CalendarSpec[] {
  const result = parseCron(expression);
  if (!result.ok) assert.fail(`"${expression}" was refused: ${result.error}`);
  assert.equal(result.value.kind, 'calendar');
  return result.value.kind === 'calendar' ? result.value.rules.map((rule) => ruleToCalendar(rule)) : [];
}

const everyDay: Omit<CronRule, 'second' | 'minute' | 'hour'> = {
  dayOfMonth: span(1, 31),
  month: span(1, 12),
  dayOfWeek: span(0, 6),
};

describe('toRanges', () => {
  it('compresses a full run into one range of step 1', () => {
    assert.deepEqual(toRanges(span(0, 59)), [{ start: 0, end: 59, step: 1 }]);
    assert.deepEqual(toRanges(span(1, 31)), [{ start: 1, end: 31, step: 1 }]);
  });

  it('compresses an arithmetic progression of three or more', () => {
    assert.deepEqual(toRanges([0, 15, 30, 45]), [{ start: 0, end: 45, step: 15 }]);
    assert.deepEqual(toRanges([5, 25, 45]), [{ start: 5, end: 45, step: 20 }]);
    assert.deepEqual(toRanges(span(1, 31, 2)), [{ start: 1, end: 31, step: 2 }]);
  });

  it('splits mixed sets', () => {
    assert.deepEqual(toRanges([1, 2, 5]), [
      { start: 1, end: 2, step: 1 },
      { start: 5, end: 5, step: 1 },
    ]);
    assert.deepEqual(toRanges([1, 3, 5, 6, 7]), [
      { start: 1, end: 5, step: 2 },
      { start: 6, end: 7, step: 1 },
    ]);
    assert.deepEqual(toRanges([0, 1, 2, 10, 20, 30, 31]), [
      { start: 0, end: 2, step: 1 },
      { start: 10, end: 30, step: 10 },
      { start: 31, end: 31, step: 1 },
    ]);
  });

  it('keeps two values with a gap as two single ranges, not a two-value progression', () => {
    assert.deepEqual(toRanges([1, 3]), [
      { start: 1, end: 1, step: 1 },
      { start: 3, end: 3, step: 1 },
    ]);
  });

  it('handles empty and single-value sets', () => {
    assert.deepEqual(toRanges([]), []);
    assert.deepEqual(toRanges([0]), [{ start: 0, end: 0, step: 1 }]);
    assert.deepEqual(toRanges([42]), [{ start: 42, end: 42, step: 1 }]);
  });

  it('always gives an explicit end (the client sends a missing end as 1) and a step ≥ 1', () => {
    const samples = [[0], [7], [1, 2, 5], [0, 15, 30, 45], [3, 9], span(2000, 2098, 2), [22, 23], [0, 1, 2, 22, 23]];
    for (const values of samples) {
      for (const range of toRanges(values)) {
        assert.equal(typeof range.end, 'number', JSON.stringify(values));
        assert.ok(range.end >= range.start, JSON.stringify(values));
        assert.ok(Number.isInteger(range.step) && range.step >= 1, JSON.stringify(values));
      }
    }
  });

  it('round-trips: the ranges stand for exactly the values given', () => {
    const samples = [
      [0],
      [1, 2, 5],
      [0, 15, 30, 45],
      [1, 3, 5, 6, 7],
      [0, 1, 2, 3, 5, 8, 13, 21, 34, 55],
      [0, 2, 4, 5, 6, 7, 9, 11],
      span(0, 59),
      span(2000, 2099, 3),
    ];
    for (const values of samples) assert.deepEqual(expand(toRanges(values)), values);
  });
});

describe('ruleToCalendar', () => {
  it('uses "*" for a full day-of-month, month and day-of-week, and ranges for the time fields', () => {
    assert.deepEqual(ruleToCalendar({ second: [0], minute: [30], hour: [9], ...everyDay }), {
      second: [{ start: 0, end: 0, step: 1 }],
      minute: [{ start: 30, end: 30, step: 1 }],
      hour: [{ start: 9, end: 9, step: 1 }],
      dayOfMonth: '*',
      month: '*',
      dayOfWeek: '*',
    });
  });

  it('gives full time fields as one range, not "*"', () => {
    const spec = ruleToCalendar({ second: span(0, 59), minute: span(0, 59), hour: span(0, 23), ...everyDay });
    assert.deepEqual(spec.second, [{ start: 0, end: 59, step: 1 }]);
    assert.deepEqual(spec.minute, [{ start: 0, end: 59, step: 1 }]);
    assert.deepEqual(spec.hour, [{ start: 0, end: 23, step: 1 }]);
  });

  it('names months and weekdays', () => {
    const spec = ruleToCalendar({
      second: [0],
      minute: [0],
      hour: [0],
      dayOfMonth: [1, 15],
      month: [1, 4, 7, 10, 12],
      dayOfWeek: [1, 2, 3, 4, 5],
    });
    assert.deepEqual(spec.dayOfMonth, [
      { start: 1, end: 1, step: 1 },
      { start: 15, end: 15, step: 1 },
    ]);
    assert.deepEqual(spec.month, [
      { start: 'JANUARY', end: 'OCTOBER', step: 3 },
      { start: 'DECEMBER', end: 'DECEMBER', step: 1 },
    ]);
    assert.deepEqual(spec.dayOfWeek, [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }]);
  });

  it('names Sunday (0) and Saturday (6)', () => {
    const spec = ruleToCalendar({ second: [0], minute: [0], hour: [0], ...everyDay, dayOfWeek: [0, 6] });
    assert.deepEqual(spec.dayOfWeek, [
      { start: 'SUNDAY', end: 'SUNDAY', step: 1 },
      { start: 'SATURDAY', end: 'SATURDAY', step: 1 },
    ]);
  });

  it('gives a year only when the rule restricts it', () => {
    assert.equal('year' in ruleToCalendar({ second: [0], minute: [0], hour: [0], ...everyDay }), false);
    const spec = ruleToCalendar({ second: [0], minute: [0], hour: [0], ...everyDay, year: [2030, 2031, 2032] });
    assert.deepEqual(spec.year, [{ start: 2030, end: 2032, step: 1 }]);
  });

  it('adds a comment only when given', () => {
    const rule: CronRule = { second: [0], minute: [0], hour: [0], ...everyDay };
    assert.equal(ruleToCalendar(rule, 'nightly').comment, 'nightly');
    assert.equal('comment' in ruleToCalendar(rule), false);
    assert.equal('comment' in ruleToCalendar(rule, ''), false);
  });
});

describe('cron → calendar', () => {
  it('0 9 * * MON-FRI', () => {
    assert.deepEqual(calendars('0 9 * * MON-FRI'), [
      {
        second: [{ start: 0, end: 0, step: 1 }],
        minute: [{ start: 0, end: 0, step: 1 }],
        hour: [{ start: 9, end: 9, step: 1 }],
        dayOfMonth: '*',
        month: '*',
        dayOfWeek: [{ start: 'MONDAY', end: 'FRIDAY', step: 1 }],
      },
    ]);
  });

  it('*/15 minutes', () => {
    const [spec] = calendars('*/15 * * * *');
    assert.deepEqual(spec?.minute, [{ start: 0, end: 45, step: 15 }]);
    assert.deepEqual(spec?.hour, [{ start: 0, end: 23, step: 1 }]);
  });

  it('dom OR dow gives two calendars', () => {
    const specs = calendars('0 0 1,15 * 1');
    assert.equal(specs.length, 2);
    assert.deepEqual(
      specs.map(({ dayOfMonth, dayOfWeek }) => ({ dayOfMonth, dayOfWeek })),
      [
        {
          dayOfMonth: [
            { start: 1, end: 1, step: 1 },
            { start: 15, end: 15, step: 1 },
          ],
          dayOfWeek: '*',
        },
        { dayOfMonth: '*', dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }] },
      ],
    );
  });

  it('MON#2 gives Monday AND days 8–14', () => {
    const [spec] = calendars('0 0 0 ? * MON#2 *');
    assert.deepEqual(spec?.dayOfMonth, [{ start: 8, end: 14, step: 1 }]);
    assert.deepEqual(spec?.dayOfWeek, [{ start: 'MONDAY', end: 'MONDAY', step: 1 }]);
  });

  it('Quartz years', () => {
    assert.deepEqual(calendars('0 0 0 1 1 ? 2030-2035')[0]?.year, [{ start: 2030, end: 2035, step: 1 }]);
    assert.deepEqual(calendars('0 0 0 1 1 ? */2')[0]?.year, [{ start: 2000, end: 2098, step: 2 }]);
    assert.equal('year' in (calendars('0 0 0 1 1 ? *')[0] ?? {}), false);
  });

  it('Quartz wrap-around FRI-MON', () => {
    assert.deepEqual(calendars('0 0 0 ? * FRI-MON *')[0]?.dayOfWeek, [
      { start: 'SUNDAY', end: 'MONDAY', step: 1 },
      { start: 'FRIDAY', end: 'SATURDAY', step: 1 },
    ]);
  });

  it('encodes for the wire with every end explicit and the values intended', () => {
    const specs = [
      ...calendars('0 9 * * MON-FRI'),
      ...calendars('5/20 1,2,5 1,15 JAN,APR,JUL,OCT 1'),
      ...calendars('0 0 0 ? * MON#2 2030'),
      ...calendars('@weekly'),
    ];
    const encoded = encodeOptionalStructuredCalendarSpecs(specs) ?? [];
    assert.equal(encoded.length, 5);
    const first = encoded[0];
    assert.deepEqual(first?.dayOfWeek, [{ start: 1, end: 5, step: 1 }]);
    assert.deepEqual(first?.dayOfMonth, [{ start: 1, end: 31, step: 1 }]);
    const second = encoded[1];
    assert.deepEqual(second?.minute, [{ start: 5, end: 45, step: 20 }]);
    assert.deepEqual(second?.hour, [
      { start: 1, end: 2, step: 1 },
      { start: 5, end: 5, step: 1 },
    ]);
    assert.deepEqual(second?.month, [{ start: 1, end: 10, step: 3 }]);
    assert.deepEqual(encoded[3]?.year, [{ start: 2030, end: 2030, step: 1 }]);
    assert.deepEqual(encoded[4]?.dayOfWeek, [{ start: 0, end: 0, step: 1 }]);
    for (const spec of encoded) {
      for (const field of ['second', 'minute', 'hour', 'dayOfMonth', 'month', 'dayOfWeek', 'year'] as const) {
        for (const range of spec[field] ?? []) {
          assert.ok((range.end ?? 0) >= (range.start ?? 0), `${field} ${JSON.stringify(range)}`);
        }
      }
    }
  });
});
