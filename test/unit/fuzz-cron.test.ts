/**
 * Property-based fuzzing of the cron parser, the calendar translation and the task spec schema.
 *
 * Seeded, so a failure reproduces; `FUZZ_RUNS=20000 npm test -- fuzz-cron` scales every property up, and
 * `FUZZ_SEED=<n>` explores other inputs.
 */
import { DAYS_OF_WEEK, MONTHS } from '@temporalio/client';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ruleToCalendar } from '../../src/cron/calendar.js';
import { parseCron, type CronRule, type CronResult } from '../../src/cron/parse.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';

const RUNS = Math.max(2_000, Number(process.env.FUZZ_RUNS) || 0);
const SEED = Number(process.env.FUZZ_SEED) || 20_240_601;
const params = { numRuns: RUNS, seed: SEED };

/** Every refusal names a field, the field count, a macro, `@every` or the prefix time zone. */
const ERROR_SHAPE =
  /^(second|minute|hour|day-of-month|month|day-of-week|year) field\b|^day-of-month and day-of-week are both restricted|^expected 5 fields \(min hour dom month dow\), 6 \(sec min hour dom month dow\) or 7 \(… year\), got \d+$|^unknown macro "|^@every "|^unknown time zone "/;

const ranges: Record<Exclude<keyof CronRule, 'year' | 'followsRealTime'>, [number, number]> = {
  second: [0, 59],
  minute: [0, 59],
  hour: [0, 23],
  dayOfMonth: [1, 31],
  month: [1, 12],
  dayOfWeek: [0, 6],
};

/** parseCron, failing the property (with the input) instead of letting an exception escape. */
function parse(expression: string): CronResult {
  try {
    return parseCron(expression);
  } catch (error) {
    assert.fail(`parseCron(${JSON.stringify(expression)}) threw: ${(error as Error).stack ?? String(error)}`);
  }
}

function checkRule(rule: CronRule, expression: string): void {
  for (const [field, [min, max]] of Object.entries(ranges)) {
    const values = rule[field as keyof typeof ranges];
    assert.ok(values.length > 0, `${JSON.stringify(expression)}: ${field} is empty`);
    for (const v of values) {
      assert.ok(Number.isInteger(v) && v >= min && v <= max, `${JSON.stringify(expression)}: ${field} has ${v}`);
    }
    assert.deepEqual(
      values,
      [...new Set(values)].sort((a, b) => a - b),
      `${field} not sorted/unique`,
    );
  }
  if (rule.year !== undefined) {
    assert.ok(rule.year.length > 0, `${JSON.stringify(expression)}: year is empty`);
    for (const y of rule.year) assert.ok(Number.isInteger(y) && y >= 2000 && y <= 2099, `year ${y}`);
  }
}

function checkResult(result: CronResult, expression: string): void {
  if (!result.ok) {
    assert.equal(typeof result.error, 'string');
    assert.match(result.error, ERROR_SHAPE, `${JSON.stringify(expression)} → unexpected error shape`);
    return;
  }
  const value = result.value;
  if (value.kind === 'interval') {
    assert.ok(Number.isSafeInteger(value.everyMs) && value.everyMs >= 1000, `everyMs ${value.everyMs}`);
    return;
  }
  assert.ok(value.rules.length > 0, `${JSON.stringify(expression)}: no rules`);
  for (const rule of value.rules) checkRule(rule, expression);
}

/** Expands translated ranges back into values (numbers, month or day names by index). */
function expand(field: unknown, names: readonly string[] | undefined, base: number, expression: string): number[] {
  assert.ok(Array.isArray(field), `${JSON.stringify(expression)}: field is ${JSON.stringify(field)}`);
  const values: number[] = [];
  for (const range of field as { start: unknown; end?: unknown; step?: unknown }[]) {
    assert.ok(range.end !== undefined, `${JSON.stringify(expression)}: range without end ${JSON.stringify(range)}`);
    const index = (v: unknown): number => (names ? names.indexOf(v as string) + base : (v as number));
    const start = index(range.start);
    const end = index(range.end);
    const step = range.step as number;
    assert.ok(Number.isInteger(step) && step >= 1, `step ${String(range.step)}`);
    assert.ok(start <= end, `${JSON.stringify(expression)}: range ${JSON.stringify(range)} runs backwards`);
    for (let v = start; v <= end; v += step) values.push(v);
  }
  return values;
}

function checkCalendars(result: CronResult, expression: string): void {
  if (!result.ok || result.value.kind !== 'calendar') return;
  for (const rule of result.value.rules) {
    const calendar = ruleToCalendar(rule, expression);
    const back = (field: unknown, names: readonly string[] | undefined, base: number, all: number[]) =>
      field === '*' ? all : expand(field, names, base, expression);
    const span = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
    assert.deepEqual(back(calendar.second, undefined, 0, []), rule.second);
    assert.deepEqual(back(calendar.minute, undefined, 0, []), rule.minute);
    assert.deepEqual(back(calendar.hour, undefined, 0, []), rule.hour);
    assert.deepEqual(back(calendar.dayOfMonth, undefined, 0, span(1, 31)), rule.dayOfMonth);
    assert.deepEqual(back(calendar.month, MONTHS, 1, span(1, 12)), rule.month);
    assert.deepEqual(back(calendar.dayOfWeek, DAYS_OF_WEEK, 0, span(0, 6)), rule.dayOfWeek);
    if (rule.year) assert.deepEqual(back(calendar.year, undefined, 0, []), rule.year);
  }
}

// --- generators ---------------------------------------------------------------------------------------------

const names = ['JAN', 'FEB', 'jul', 'DEC', 'MON', 'sun', 'SAT', 'THU', 'L', 'LW', 'W', 'JULY', 'X', 'MONDAY'];
const atoms = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 70 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('2000', '2099', '2100', '1999', '2050', '007', '99999999999999999999') },
  { weight: 3, arbitrary: fc.constantFrom(...names) },
  { weight: 3, arbitrary: fc.constantFrom('*', '?', 'L', 'W', '#', '-', '/', ',', '') },
);
const sep = fc.constantFrom('-', '/', ',', '#', '', 'W', 'L');
/** One field: atoms joined by separators (`1-5/2`, `MON#2`, `*\/15`, `5L`, `L-3`, `,`, …). */
const fieldText = fc
  .array(fc.tuple(atoms, sep), { minLength: 1, maxLength: 5 })
  .map((parts) => parts.map(([a, s], i) => (i === parts.length - 1 ? a : a + s)).join(''))
  .filter((s) => s.length > 0);
const whitespace = fc.constantFrom(' ', '  ', '\t', ' \n ', '\u00a0', ' \r');
const prefix = fc.constantFrom('', '', '', 'CRON_TZ=UTC ', 'TZ=Europe/Berlin ', 'TZ=europe/berlin ', 'TZ=Nowhere/X ');
/** A near-valid expression: 4–8 fields of cron tokens, odd whitespace, sometimes a time zone prefix. */
const nearValid = fc
  .tuple(prefix, fc.array(fc.tuple(fieldText, whitespace), { minLength: 4, maxLength: 8 }), fc.boolean())
  .map(([p, fields, pad]) => {
    const body = fields.map(([f, w], i) => (i === fields.length - 1 ? f : f + w)).join('');
    return pad ? `  ${p}${body} ` : `${p}${body}`;
  });
/** Exactly five fields from the same tokens (more of them parse, so the calendar property has material). */
const fiveFields = fc.array(fieldText, { minLength: 5, maxLength: 5 }).map((fields) => fields.join(' '));
/** Simple valid-looking five-field expressions: numbers, ranges, steps and lists in range. */
const fieldFor = (min: number, max: number) =>
  fc.oneof(
    fc.constant('*'),
    fc.integer({ min, max }).map(String),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min, max })).map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`),
    fc.tuple(fc.integer({ min, max }), fc.integer({ min: 1, max: max - min + 1 })).map(([a, s]) => `${a}/${s}`),
    fc.integer({ min: 1, max: max - min + 1 }).map((s) => `*/${s}`),
    fc.uniqueArray(fc.integer({ min, max }), { minLength: 1, maxLength: 6 }).map((v) => v.join(',')),
  );
const validFive = fc
  .tuple(
    fieldFor(0, 59),
    fieldFor(0, 23),
    fieldFor(1, 31),
    fc.oneof(fieldFor(1, 12), fc.constantFrom('JAN', 'MAR-SEP', 'jan,jul')),
    fc.oneof(fieldFor(0, 7), fc.constantFrom('MON-FRI', 'SUN', 'MON#2', '5#5', '1#1,3')),
  )
  .map((fields) => fields.join(' '));
const macro = fc.oneof(
  fc.constantFrom('@yearly', '@DAILY', '@hourly', '@every 1h30m', '@every 500ms', '@every', '@every 0s', '@reboot'),
  fc.tuple(fc.constantFrom('@', '@every ', '@EVERY'), fc.string({ maxLength: 12 })).map(([a, b]) => a + b),
);

describe(`fuzz: parseCron (${RUNS} runs each, seed ${SEED})`, () => {
  it('arbitrary strings never throw; errors name a field, the count or the macro', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.string({ unit: 'binary', maxLength: 40 })), (text) => {
        checkResult(parse(text), text);
      }),
      params,
    );
  });

  it('near-valid expressions (4–8 fields of cron tokens) never throw; ok results stay in range', () => {
    fc.assert(
      fc.property(fc.oneof(nearValid, fiveFields, macro), (expression) => {
        checkResult(parse(expression), expression);
      }),
      params,
    );
  });

  it('five-field expressions translate to calendars with an explicit end on every range, values preserved', () => {
    let ok = 0;
    fc.assert(
      fc.property(fc.oneof(validFive, fiveFields), (expression) => {
        const result = parse(expression);
        checkResult(result, expression);
        if (result.ok) ok += 1;
        checkCalendars(result, expression);
      }),
      params,
    );
    assert.ok(ok > RUNS / 4, `only ${ok} of ${RUNS} five-field expressions parsed: the generator is too noisy`);
  });

  it('6- and 7-field (seconds, Quartz) calendars keep their values too', () => {
    const sixOrSeven = fc
      .tuple(fieldFor(0, 59), validFive, fc.option(fc.oneof(fieldFor(2000, 2099), fc.constant('2099-2001'))))
      .map(([s, five, year]) => {
        if (year === null) return `${s} ${five}`;
        // Quartz: day-of-week 1–7 and "?" in one day field.
        const [min, hour, dom, month] = five.split(' ');
        return `${s} ${min} ${hour} ${dom} ${month} ? ${year}`;
      });
    fc.assert(
      fc.property(sixOrSeven, (expression) => {
        const result = parse(expression);
        checkResult(result, expression);
        checkCalendars(result, expression);
      }),
      params,
    );
  });
});

describe(`fuzz: taskSpecSchema.safeParse (${RUNS} runs, seed ${SEED})`, () => {
  const validSpec = {
    id: 'fuzz-task',
    schedule: { cron: '*/5 * * * *' },
    handler: { type: 'function', name: 'heartbeat' },
  };
  const anything = fc.anything({
    maxDepth: 4,
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
  });
  const pollution = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty');
  const mutated = fc
    .tuple(fc.constantFrom('id', 'schedule', 'handler', 'retry', 'timeouts', 'tags', 'overlap', 'maxRuns'), anything)
    .map(([key, value]) => ({ ...validSpec, [key]: value }));
  const polluted = fc.tuple(pollution, fc.jsonValue()).map(([key, value]) => {
    const spec: Record<string, unknown> = JSON.parse(JSON.stringify(validSpec)) as Record<string, unknown>;
    Object.defineProperty(spec, key, { value, enumerable: true, configurable: true, writable: true });
    return spec;
  });

  it('never throws on random JSON, random values, mutated and polluted specs', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.object(), anything, mutated, polluted), (input) => {
        let result: ReturnType<typeof taskSpecSchema.safeParse>;
        try {
          result = taskSpecSchema.safeParse(input);
        } catch (error) {
          assert.fail(`safeParse threw: ${(error as Error).stack ?? String(error)}`);
        }
        if (!result.success) assert.ok(result.error.issues.length > 0);
        // Nothing leaks onto Object.prototype.
        assert.deepEqual(Object.keys(Object.prototype), []);
      }),
      params,
    );
  });
});
