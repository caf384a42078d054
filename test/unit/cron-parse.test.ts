import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseCron, type CronRule, type ParsedCron } from '../../src/cron/parse.js';

const span = (start: number, end: number, step = 1): number[] => {
  const values: number[] = [];
  for (let v = start; v <= end; v += step) values.push(v);
  return values;
};
const ALL_SECONDS = span(0, 59);
const ALL_HOURS = span(0, 23);
const ALL_DAYS = span(1, 31);
const ALL_MONTHS = span(1, 12);
const ALL_WEEKDAYS = span(0, 6);

function parsed(expression: string): ParsedCron {
  const result = parseCron(expression);
  if (!result.ok) assert.fail(`"${expression}" was refused: ${result.error}`);
  return result.value;
}

function rules(expression: string): CronRule[] {
  const value = parsed(expression);
  assert.equal(value.kind, 'calendar', `"${expression}" is not a calendar`);
  return value.kind === 'calendar' ? value.rules : [];
}

function rule(expression: string): CronRule {
  const all = rules(expression);
  assert.equal(all.length, 1, `"${expression}" gave ${all.length} rules`);
  return all[0] as CronRule;
}

function error(expression: string): string {
  const result = parseCron(expression);
  if (result.ok) assert.fail(`"${expression}" was accepted: ${JSON.stringify(result.value)}`);
  return result.error;
}

describe('parseCron: dialects and field counts', () => {
  it('reads 5 fields as Unix cron with second 0', () => {
    const value = parsed('30 4 1 2 3');
    assert.equal(value.kind === 'calendar' && value.dialect, 'unix');
    assert.deepEqual(rules('30 4 1 2 3'), [
      { second: [0], minute: [30], hour: [4], month: [2], dayOfMonth: [1], dayOfWeek: ALL_WEEKDAYS },
      { second: [0], minute: [30], hour: [4], month: [2], dayOfMonth: ALL_DAYS, dayOfWeek: [3] },
    ]);
  });

  it('reads 6 fields as seconds-first', () => {
    const value = parsed('15 30 4 * * *');
    assert.equal(value.kind === 'calendar' && value.dialect, 'seconds');
    assert.deepEqual(rule('15 30 4 * * *'), {
      second: [15],
      minute: [30],
      hour: [4],
      month: ALL_MONTHS,
      dayOfMonth: ALL_DAYS,
      dayOfWeek: ALL_WEEKDAYS,
    });
  });

  it('reads 7 fields as Quartz with a year', () => {
    const value = parsed('0 0 12 ? * * 2030');
    assert.equal(value.kind === 'calendar' && value.dialect, 'quartz');
    assert.deepEqual(rule('0 0 12 ? * * 2030'), {
      second: [0],
      minute: [0],
      hour: [12],
      month: ALL_MONTHS,
      year: [2030],
      dayOfMonth: ALL_DAYS,
      dayOfWeek: ALL_WEEKDAYS,
    });
  });

  it('leaves the year out when the year field is `*`', () => {
    assert.equal('year' in rule('0 0 12 ? * * *'), false);
    assert.equal('year' in rule('0 0 12 * * *'), false);
    assert.equal('year' in rule('0 12 * * *'), false);
  });

  it('tolerates surrounding and repeated whitespace', () => {
    assert.deepEqual(rule('  0   12\t* *  * '), rule('0 12 * * *'));
  });

  it('refuses other field counts with the exact message', () => {
    for (const [expression, count] of [
      ['* * * *', 4],
      ['* * * * * * * *', 8],
      ['', 0],
      ['*', 1],
    ] as const) {
      assert.equal(
        error(expression),
        `expected 5 fields (min hour dom month dow), 6 (sec min hour dom month dow) or 7 (… year), got ${count}`,
      );
    }
  });
});

describe('parseCron: values, ranges, lists and steps', () => {
  it('reads single values, ranges and lists', () => {
    const r = rule('1,2,3 4-6 7,9-11 * * *');
    assert.deepEqual(r.second, [1, 2, 3]);
    assert.deepEqual(r.minute, [4, 5, 6]);
    assert.deepEqual(r.hour, [7, 9, 10, 11]);
  });

  it('sorts and deduplicates list values', () => {
    assert.deepEqual(rule('30,10,20,10 * * * *').minute, [10, 20, 30]);
  });

  it('reads `*` as every value', () => {
    const r = rule('* * * * * *');
    assert.deepEqual(r.second, ALL_SECONDS);
    assert.deepEqual(r.minute, ALL_SECONDS);
    assert.deepEqual(r.hour, ALL_HOURS);
  });

  it('reads `*/15`, `0/15`, `5/20` (to the maximum) and `10-50/20`', () => {
    assert.deepEqual(rule('*/15 * * * *').minute, [0, 15, 30, 45]);
    assert.deepEqual(rule('0/15 * * * *').minute, [0, 15, 30, 45]);
    assert.deepEqual(rule('5/20 * * * *').minute, [5, 25, 45]);
    assert.deepEqual(rule('10-50/20 * * * *').minute, [10, 30, 50]);
    assert.deepEqual(rule('0 */6 * * *').hour, [0, 6, 12, 18]);
    assert.deepEqual(rule('*/20 * * * * *').second, [0, 20, 40]);
  });

  it('steps day-of-month, month and day-of-week from their own minimum', () => {
    assert.deepEqual(rule('0 0 */10 * *').dayOfMonth, [1, 11, 21, 31]);
    assert.deepEqual(rule('0 0 * */3 *').month, [1, 4, 7, 10]);
    assert.deepEqual(rule('0 0 * * */2').dayOfWeek, [0, 2, 4, 6]);
    assert.deepEqual(rule('0 0 0 ? * */2 *').dayOfWeek, [0, 2, 4, 6]); // Quartz 1,3,5,7 = SUN,TUE,THU,SAT
  });

  it('ends `a/n` in a 5/6-field day-of-week at Saturday: 7 is only another name for Sunday', () => {
    assert.deepEqual(rule('0 0 * * 1/2').dayOfWeek, [1, 3, 5]);
    assert.deepEqual(rule('0 0 * * 1/3').dayOfWeek, [1, 4]);
    assert.deepEqual(rule('0 0 0 * * MON/2').dayOfWeek, [1, 3, 5]);
    // An explicit range to 7 still includes Sunday.
    assert.deepEqual(rule('0 0 * * 1-7/2').dayOfWeek, [0, 1, 3, 5]);
  });

  it('accepts the extreme values of each field', () => {
    const r = rule('59 59 23 31 12 *');
    assert.deepEqual([r.second, r.minute, r.hour], [[59], [59], [23]]);
    const q = rule('59 59 23 31 12 ? 2099');
    assert.deepEqual([q.dayOfMonth, q.month, q.year], [[31], [12], [2099]]);
    assert.deepEqual(rule('0 0 0 ? * 7 2000').dayOfWeek, [6]);
  });
});

describe('parseCron: names', () => {
  it('reads month names, case-insensitively', () => {
    assert.deepEqual(rule('0 0 1 JAN *').month, [1]);
    assert.deepEqual(rule('0 0 1 jan,Mar,dEc *').month, [1, 3, 12]);
    assert.deepEqual(rule('0 0 1 FEB-APR *').month, [2, 3, 4]);
  });

  it('reads month names containing an L (JUL), alone, in ranges and with steps', () => {
    assert.deepEqual(rule('0 0 1 JUL *').month, [7]);
    assert.deepEqual(rule('0 0 1 JUL-DEC *').month, [7, 8, 9, 10, 11, 12]);
    assert.deepEqual(rule('0 0 1 jun-jul *').month, [6, 7]);
    assert.deepEqual(rule('0 0 1 JUL/2 *').month, [7, 9, 11]);
    assert.deepEqual(rule('0 0 0 1 JUL-DEC ? *').month, [7, 8, 9, 10, 11, 12]);
  });

  it('reads day names, case-insensitively, in every dialect', () => {
    assert.deepEqual(rule('0 9 * * MON-FRI').dayOfWeek, [1, 2, 3, 4, 5]);
    assert.deepEqual(rule('0 9 * * mon-fri').dayOfWeek, [1, 2, 3, 4, 5]);
    assert.deepEqual(rule('0 0 9 * * Sun,Sat').dayOfWeek, [0, 6]);
    assert.deepEqual(rule('0 0 9 ? * MON-FRI *').dayOfWeek, [1, 2, 3, 4, 5]);
    assert.deepEqual(rule('0 0 9 ? * SUN *').dayOfWeek, [0]);
    assert.deepEqual(rule('0 0 9 ? * SAT *').dayOfWeek, [6]);
  });

  it('refuses unknown names, and names in the wrong field', () => {
    assert.equal(error('0 0 1 JANUARY *'), 'month field "JANUARY": unknown name "JANUARY"');
    assert.equal(error('0 0 * * MONDAY'), 'day-of-week field "MONDAY": unknown name "MONDAY"');
    assert.equal(error('0 0 1 MON *'), 'month field "MON": unknown name "MON"');
    assert.equal(error('0 0 JAN * *'), 'day-of-month field "JAN": unknown name "JAN"');
    assert.equal(error('abc * * * *'), 'minute field "abc": unknown name "abc"');
  });
});

describe('parseCron: day-of-week numbering', () => {
  it('5 and 6 fields: 0 and 7 are Sunday, 1 Monday … 6 Saturday', () => {
    assert.deepEqual(rule('0 0 * * 0').dayOfWeek, [0]);
    assert.deepEqual(rule('0 0 * * 7').dayOfWeek, [0]);
    assert.deepEqual(rule('0 0 * * 0,7').dayOfWeek, [0]);
    assert.deepEqual(rule('0 0 * * 1').dayOfWeek, [1]);
    assert.deepEqual(rule('0 0 * * 6').dayOfWeek, [6]);
    assert.deepEqual(rule('0 0 * * 5-7').dayOfWeek, [0, 5, 6]);
    assert.deepEqual(rule('0 0 0 * * 7').dayOfWeek, [0]);
    assert.deepEqual(rule('0 0 * * 0-7').dayOfWeek, ALL_WEEKDAYS);
  });

  it('7 fields (Quartz): 1 = SUN … 7 = SAT', () => {
    assert.deepEqual(rule('0 0 12 ? * 2 *').dayOfWeek, [1]); // Monday
    assert.deepEqual(rule('0 0 12 ? * 1 *').dayOfWeek, [0]);
    assert.deepEqual(rule('0 0 12 ? * 7 *').dayOfWeek, [6]);
    assert.deepEqual(rule('0 0 12 ? * 2-6 *').dayOfWeek, [1, 2, 3, 4, 5]);
  });

  it('refuses out-of-range day numbers per dialect', () => {
    assert.equal(error('0 0 * * 8'), 'day-of-week field "8": 8 is out of range 0–7');
    assert.equal(error('0 0 0 * * 8'), 'day-of-week field "8": 8 is out of range 0–7');
    assert.equal(error('0 0 12 ? * 0 *'), 'day-of-week field "0": 0 is out of range 1–7');
    assert.equal(error('0 0 12 ? * 8 *'), 'day-of-week field "8": 8 is out of range 1–7');
  });
});

describe('parseCron: `?`', () => {
  it('means "no constraint" in the day fields of every dialect', () => {
    assert.deepEqual(rule('0 0 ? * MON'), rule('0 0 * * MON'));
    assert.deepEqual(rule('0 0 1 * ?').dayOfWeek, ALL_WEEKDAYS);
    assert.deepEqual(rule('0 0 0 1 * ?').dayOfMonth, [1]);
    assert.deepEqual(rule('0 0 0 ? * ? *').dayOfMonth, ALL_DAYS);
  });

  it('is refused outside the day fields and when not alone', () => {
    assert.equal(error('? * * * *'), 'minute field "?": "?" is only allowed in day-of-month and day-of-week');
    assert.equal(error('0 0 0 1 1 ? ?'), 'year field "?": "?" is only allowed in day-of-month and day-of-week');
    assert.equal(error('0 0 ?,1 * *'), 'day-of-month field "?,1": "?" must stand alone');
  });
});

describe('parseCron: day-of-month and day-of-week together', () => {
  it('5/6 fields, both restricted: two rules, either day fires (OR)', () => {
    const expected = [
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: [1, 15], dayOfWeek: ALL_WEEKDAYS },
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: ALL_DAYS, dayOfWeek: [1] },
    ];
    assert.deepEqual(rules('0 0 1,15 * 1'), expected);
    assert.deepEqual(rules('0 0 0 1,15 * MON'), expected);
  });

  it('5 fields: a field starting with `*` counts as unrestricted: one AND rule, as in Vixie cron', () => {
    assert.deepEqual(rules('0 0 */2 * 1'), [
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: span(1, 31, 2), dayOfWeek: [1] },
    ]);
    assert.deepEqual(rules('0 0 1 * */2'), [
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: [1], dayOfWeek: [0, 2, 4, 6] },
    ]);
  });

  it('a restriction that happens to cover every day still counts (Vixie reads only the first character)', () => {
    assert.equal(rules('0 0 1-31 * 1').length, 2);
  });

  it('6 fields: a step above 1 restricts, as in robfig/cron: two rules (OR)', () => {
    assert.deepEqual(rules('0 0 0 */2 * 1'), [
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: span(1, 31, 2), dayOfWeek: ALL_WEEKDAYS },
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: ALL_DAYS, dayOfWeek: [1] },
    ]);
    assert.equal(rules('0 0 0 */1 * 1').length, 1);
  });

  it('only one restricted: one rule', () => {
    assert.deepEqual(rule('0 0 13 * *').dayOfMonth, [13]);
    assert.deepEqual(rule('0 0 13 * *').dayOfWeek, ALL_WEEKDAYS);
    assert.deepEqual(rule('0 0 * * 5').dayOfMonth, ALL_DAYS);
  });

  it('Quartz refuses a restriction on both', () => {
    const message = 'day-of-month and day-of-week are both restricted; Quartz requires "?" in one of them';
    assert.equal(error('0 0 0 1 * MON *'), message);
    assert.equal(error('0 0 0 1-5 * 2 2030'), message);
  });

  it('Quartz accepts `*` on one side (more lenient than Quartz itself)', () => {
    assert.deepEqual(rule('0 0 0 * * MON *').dayOfWeek, [1]);
    assert.deepEqual(rule('0 0 0 1 * * *').dayOfMonth, [1]);
  });
});

describe('parseCron: `#` (n-th weekday of the month)', () => {
  it('MON#2 is Monday AND day 8–14, in every dialect', () => {
    const second = { dayOfMonth: span(8, 14), dayOfWeek: [1] };
    assert.deepEqual(rule('0 0 0 ? * MON#2 *'), { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, ...second });
    assert.deepEqual(rule('0 0 0 ? * 2#2 *'), rule('0 0 0 ? * MON#2 *'));
    assert.deepEqual(rule('0 0 * * 1#2'), rule('0 0 0 ? * MON#2 *'));
    assert.deepEqual(rule('0 0 0 * * mon#2'), rule('0 0 0 ? * MON#2 *'));
  });

  it('maps n to days 7n−6 … 7n, capped at 31', () => {
    assert.deepEqual(rule('0 0 * * 5#1').dayOfMonth, span(1, 7));
    assert.deepEqual(rule('0 0 * * 5#4').dayOfMonth, span(22, 28));
    assert.deepEqual(rule('0 0 * * 5#5').dayOfMonth, [29, 30, 31]);
    assert.deepEqual(rule('0 0 * * 7#1').dayOfWeek, [0]);
    assert.deepEqual(rule('0 0 0 ? * 1#1 *').dayOfWeek, [0]);
  });

  it('lists of `#` and plain days become a union of rules', () => {
    assert.deepEqual(rules('0 0 * * MON#1,FRI#3,SAT'), [
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: span(1, 7), dayOfWeek: [1] },
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: span(15, 21), dayOfWeek: [5] },
      { second: [0], minute: [0], hour: [0], month: ALL_MONTHS, dayOfMonth: ALL_DAYS, dayOfWeek: [6] },
    ]);
  });

  it('refuses `#` with a day-of-month restriction, outside day-of-week, and n outside 1–5', () => {
    assert.equal(error('0 0 1 * 1#2'), 'day-of-week field: "#" cannot be combined with a day-of-month restriction');
    assert.equal(error('0 0 1#2 * *'), 'day-of-month field "1#2": "#" is only allowed in day-of-week');
    assert.equal(error('0 0 * * 1#6'), 'day-of-week field "1#6": "#6" must be #1 to #5');
    assert.equal(error('0 0 * * 1#0'), 'day-of-week field "1#0": "#0" must be #1 to #5');
    assert.equal(error('0 0 * * 1#'), 'day-of-week field "1#": "#" must be #1 to #5');
    assert.equal(error('0 0 * * 8#1'), 'day-of-week field "8#1": 8 is out of range 0–7');
  });
});

describe('parseCron: `L` and `W` are refused', () => {
  const last =
    '"L" (last) is not supported: a Temporal calendar cannot express it for every month; list the days instead';
  const weekday =
    '"W" (nearest weekday) is not supported: a Temporal calendar cannot express it; list the days instead';

  it('names the field and the reason', () => {
    assert.equal(error('0 0 0 L * ? *'), `day-of-month field "L": ${last}`);
    assert.equal(error('0 0 L * *'), `day-of-month field "L": ${last}`);
    assert.equal(error('0 0 0 ? * 5L *'), `day-of-week field "5L": ${last}`);
    assert.equal(error('0 0 0 ? * FRIL *'), `day-of-week field "FRIL": ${last}`);
    assert.equal(error('0 0 0 L-3 * ? *'), `day-of-month field "L-3": ${last}`);
    assert.equal(error('0 0 1,L * *'), `day-of-month field "1,L": ${last}`);
    assert.equal(error('0 0 0 15W * ? *'), `day-of-month field "15W": ${weekday}`);
    assert.equal(error('0 0 0 LW * ? *'), `day-of-month field "LW": ${weekday}`);
    assert.equal(error('0 0 lw * *'), `day-of-month field "lw": ${weekday}`);
  });
});

describe('parseCron: wrap-around ranges', () => {
  it('are read as in Quartz in the 7-field dialect', () => {
    assert.deepEqual(rule('0 0 0 ? * FRI-MON *').dayOfWeek, [0, 1, 5, 6]);
    assert.deepEqual(rule('0 0 0 ? * 6-2 *').dayOfWeek, [0, 1, 5, 6]);
    assert.deepEqual(rule('0 0 22-2 * * ? *').hour, [0, 1, 2, 22, 23]);
    assert.deepEqual(rule('0 0 22-2/2 * * ? *').hour, [0, 2, 22]);
    assert.deepEqual(rule('0 0 0 1 NOV-FEB ? *').month, [1, 2, 11, 12]);
    assert.deepEqual(
      rule('0 50-10 0 * * ? *').minute,
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59],
    );
    assert.deepEqual(rule('0 0 0 30-2 * ? *').dayOfMonth, [1, 2, 30, 31]);
  });

  it('are refused in the 5- and 6-field dialects', () => {
    assert.equal(error('0 22-2 * * *'), 'hour field "22-2": range 22-2 runs backwards');
    assert.equal(error('0 0 22-2 * * *'), 'hour field "22-2": range 22-2 runs backwards');
    assert.equal(error('0 0 * * FRI-MON'), 'day-of-week field "FRI-MON": range 5-1 runs backwards');
    assert.equal(error('0 0 1 DEC-JAN *'), 'month field "DEC-JAN": range 12-1 runs backwards');
  });
});

describe('parseCron: the Quartz year field', () => {
  it('reads years, ranges and steps', () => {
    assert.deepEqual(rule('0 0 0 1 1 ? 2030').year, [2030]);
    assert.deepEqual(rule('0 0 0 1 1 ? 2030-2032').year, [2030, 2031, 2032]);
    assert.deepEqual(rule('0 0 0 1 1 ? 2030,2040').year, [2030, 2040]);
    assert.deepEqual(rule('0 0 0 1 1 ? 2090/3').year, [2090, 2093, 2096, 2099]);
  });

  it('keeps the restriction of a step over `*` (every other year)', () => {
    assert.deepEqual(rule('0 0 0 1 1 ? */2').year, span(2000, 2098, 2));
  });

  it('accepts 2000–2099 only, what Temporal accepts', () => {
    assert.deepEqual(rule('0 0 0 1 1 ? 2000').year, [2000]);
    assert.deepEqual(rule('0 0 0 1 1 ? 2099').year, [2099]);
    assert.equal(error('0 0 0 1 1 ? 1999'), 'year field "1999": 1999 is out of range 2000–2099');
    assert.equal(error('0 0 0 1 1 ? 1970'), 'year field "1970": 1970 is out of range 2000–2099');
    assert.equal(error('0 0 0 1 1 ? 2100'), 'year field "2100": 2100 is out of range 2000–2099');
  });
});

describe('parseCron: errors name the field and the reason', () => {
  it('out-of-range values', () => {
    assert.equal(error('61 * * * *'), 'minute field "61": 61 is out of range 0–59');
    assert.equal(error('60 * * * * *'), 'second field "60": 60 is out of range 0–59');
    assert.equal(error('0 24 * * *'), 'hour field "24": 24 is out of range 0–23');
    assert.equal(error('0 0 0 * *'), 'day-of-month field "0": 0 is out of range 1–31');
    assert.equal(error('0 0 32 * *'), 'day-of-month field "32": 32 is out of range 1–31');
    assert.equal(error('0 0 1 13 *'), 'month field "13": 13 is out of range 1–12');
    assert.equal(error('0 0 1 0 *'), 'month field "0": 0 is out of range 1–12');
    assert.equal(error('1-61 * * * *'), 'minute field "1-61": 61 is out of range 0–59');
  });

  it('bad steps', () => {
    assert.equal(error('*/0 * * * *'), 'minute field "*/0": step "0" must be a positive number');
    assert.equal(error('*/x * * * *'), 'minute field "*/x": step "x" must be a positive number');
    assert.equal(error('*/ * * * *'), 'minute field "*/": step "" must be a positive number');
    assert.equal(error('*/-1 * * * *'), 'minute field "*/-1": step "-1" must be a positive number');
    assert.equal(error('*/61 * * * *'), 'minute field "*/61": step 61 is larger than the field\'s range');
    assert.equal(error('1/2/3 * * * *'), 'minute field "1/2/3": "1/2/3" has more than one "/"');
  });

  it('empty list items', () => {
    assert.equal(error('1,,2 * * * *'), 'minute field "1,,2": empty list item');
    assert.equal(error('1, * * * *'), 'minute field "1,": empty list item');
    assert.equal(error('0 0 * * ,MON'), 'day-of-week field ",MON": empty list item');
  });

  it('malformed numbers and ranges', () => {
    assert.equal(error('1-2-3 * * * *'), 'minute field "1-2-3": "1-2-3" is not a range');
    assert.equal(error('-5 * * * *'), 'minute field "-5": "-5" is not a range');
    assert.equal(error('5- * * * *'), 'minute field "5-": "5-" is not a range');
    assert.equal(error('1.5 * * * *'), 'minute field "1.5": "1.5" is not a number');
    assert.equal(error('/5 * * * *'), 'minute field "/5": "" is not a number');
  });
});

describe('parseCron: macros', () => {
  const midnight = { second: [0], minute: [0], hour: [0] };
  it('@yearly and @annually: midnight on 1 January', () => {
    const expected = { ...midnight, month: [1], dayOfMonth: [1], dayOfWeek: ALL_WEEKDAYS };
    assert.deepEqual(rules('@yearly'), [expected]);
    assert.deepEqual(rules('@annually'), [expected]);
  });

  it('@monthly: midnight on the 1st', () => {
    assert.deepEqual(rules('@monthly'), [{ ...midnight, month: ALL_MONTHS, dayOfMonth: [1], dayOfWeek: ALL_WEEKDAYS }]);
  });

  it('@weekly: midnight on Sunday', () => {
    assert.deepEqual(rules('@weekly'), [{ ...midnight, month: ALL_MONTHS, dayOfMonth: ALL_DAYS, dayOfWeek: [0] }]);
  });

  it('@daily and @midnight: every midnight', () => {
    const expected = [{ ...midnight, month: ALL_MONTHS, dayOfMonth: ALL_DAYS, dayOfWeek: ALL_WEEKDAYS }];
    assert.deepEqual(rules('@daily'), expected);
    assert.deepEqual(rules('@midnight'), expected);
    assert.deepEqual(rules('0 0 * * *'), expected);
  });

  it('@hourly: minute 0 of every hour', () => {
    assert.deepEqual(rules('@hourly'), [
      {
        second: [0],
        minute: [0],
        hour: ALL_HOURS,
        month: ALL_MONTHS,
        dayOfMonth: ALL_DAYS,
        dayOfWeek: ALL_WEEKDAYS,
        followsRealTime: true,
      },
    ]);
  });

  it('are case-insensitive', () => {
    assert.deepEqual(rules('@DAILY'), rules('@daily'));
    assert.deepEqual(rules('@Hourly'), rules('@hourly'));
  });

  it('refuses unknown macros with the exact message', () => {
    assert.equal(
      error('@fortnightly'),
      'unknown macro "@fortnightly"; use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>',
    );
    assert.match(error('@reboot'), /^unknown macro "@reboot"/);
    assert.match(error('@daily 5'), /^unknown macro "@daily 5"/);
  });
});

describe('parseCron: @every', () => {
  it('gives an interval in milliseconds', () => {
    assert.deepEqual(parsed('@every 1h30m'), { kind: 'interval', everyMs: 5_400_000 });
    assert.deepEqual(parsed('@every 90s'), { kind: 'interval', everyMs: 90_000 });
    assert.deepEqual(parsed('@every 1m30s'), { kind: 'interval', everyMs: 90_000 });
    assert.deepEqual(parsed('@every 2h'), { kind: 'interval', everyMs: 7_200_000 });
    assert.deepEqual(parsed('@every 1.5h'), { kind: 'interval', everyMs: 5_400_000 });
    assert.deepEqual(parsed('@every 1s500ms'), { kind: 'interval', everyMs: 1_000 }); // whole seconds, as robfig
    assert.deepEqual(parsed('@EVERY 5m'), { kind: 'interval', everyMs: 300_000 });
  });

  it('refuses durations under 1s and malformed durations', () => {
    assert.equal(error('@every 500ms'), '@every "500ms": must be a duration of at least 1s, e.g. "@every 1h30m"');
    assert.equal(error('@every 0s'), '@every "0s": must be a duration of at least 1s, e.g. "@every 1h30m"');
    assert.equal(error('@every'), '@every "": must be a duration of at least 1s, e.g. "@every 1h30m"');
    assert.match(error('@every 1.5'), /^@every "1\.5": /);
    assert.match(error('@every 10'), /^@every "10": /);
    assert.match(error('@every 1d'), /^@every "1d": /);
    assert.match(error('@every -1h'), /^@every "-1h": /);
  });
});

describe('parseCron: time zone prefixes', () => {
  it('reads CRON_TZ= and TZ=', () => {
    const value = parsed('CRON_TZ=Asia/Shanghai 0 9 * * MON-FRI');
    assert.equal(value.timezone, 'Asia/Shanghai');
    assert.deepEqual(value.kind === 'calendar' && value.rules, rules('0 9 * * MON-FRI'));
    assert.equal(parsed('TZ=Europe/Berlin 0 0 * * *').timezone, 'Europe/Berlin');
    assert.equal(parsed('TZ=UTC 0 0 0 ? * MON#2 *').timezone, 'UTC');
  });

  it('applies to macros and @every', () => {
    assert.equal(parsed('CRON_TZ=America/New_York @daily').timezone, 'America/New_York');
    assert.deepEqual(parsed('TZ=Asia/Tokyo @every 1h'), {
      kind: 'interval',
      everyMs: 3_600_000,
      timezone: 'Asia/Tokyo',
    });
  });

  it('has no timezone without a prefix', () => {
    assert.equal('timezone' in parsed('0 0 * * *'), false);
    assert.equal('timezone' in parsed('@every 1h'), false);
  });

  it('corrects the case of a zone name to the database spelling', () => {
    assert.equal(parsed('CRON_TZ=asia/shanghai 0 0 * * *').timezone, 'Asia/Shanghai');
    assert.equal(parsed('TZ=utc 0 0 * * *').timezone, 'UTC');
  });

  it('refuses unknown zones', () => {
    assert.equal(error('CRON_TZ=Mars/Olympus 0 0 * * *'), 'unknown time zone "Mars/Olympus" in prefix');
    assert.equal(error('TZ=Nowhere @daily'), 'unknown time zone "Nowhere" in prefix');
  });
});
