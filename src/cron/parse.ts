/**
 * Cron dialects, parsed as the implementations they are named after read them, into a dialect-free form: a
 * union of calendar rules, each an AND of per-field value sets (the shape of Temporal's calendar specs).
 *
 * - 5 fields `min hour dom month dow` — Unix/Vixie cron (cronie). Day-of-week 0–7 (0 and 7 are Sunday).
 * - 6 fields `sec min hour dom month dow` — robfig/cron v3 with `cron.WithSeconds()`. Day-of-week numbers are
 *   robfig's (0 = Sunday); 7 is also read as Sunday, which robfig refuses.
 * - 7 fields `sec min hour dom month dow year` — Quartz. Day-of-week numbers are Quartz's: 1 = SUN … 7 = SAT;
 *   years 2000–2099 (what Temporal's server accepts); wrap-around ranges such as `FRI-MON` or `22-2` are allowed as
 *   in Quartz.
 *
 * Day-of-month and day-of-week: when both are restricted, cron fires when *either* matches (OR); Temporal ANDs
 * every field of a calendar, so an OR becomes two rules. What counts as unrestricted follows each origin:
 * Vixie cron and cronie look at the field's first character only (`*`, so `*\/2` is unrestricted, `1,*` is not);
 * robfig/cron looks at each list item (`*` or `?` without a step above 1, so `*\/2` restricts and `1,*` does not).
 * Quartz refuses a restriction on both; so does the 7-field dialect, reading restrictions as robfig does.
 *
 * `?` means "no constraint" (day fields only). `#` (`MON#2`, the second Monday) is supported: the n-th
 * weekday of a month always falls on days 7n−6 … 7n, so it becomes a day-of-week AND day-of-month rule.
 * `L` and `W` are refused: a Temporal calendar cannot express "last day" or "nearest weekday" for every month
 * and year, and a translation that is right only most of the time would fire at wrong times.
 *
 * `@every <Go duration>` is an interval; its fires are counted from the Unix epoch, not from the schedule's start
 * as robfig/cron counts them (README "Cron dialects").
 */

export interface CronRule {
  second: number[];
  minute: number[];
  hour: number[];
  dayOfMonth: number[];
  /** 1–12. */
  month: number[];
  /** 0 = Sunday … 6 = Saturday. */
  dayOfWeek: number[];
  /** Undefined: every year. */
  year?: number[];
  /**
   * The hour field is a wildcard or a step (`*`, `*\/2`, `1-23/2`): the rule follows real time across DST
   * changes instead of a DST policy (see `cron/dst.ts`).
   */
  followsRealTime?: true;
}

export type CronDialect = 'unix' | 'seconds' | 'quartz';

export type ParsedCron =
  | { kind: 'calendar'; dialect: CronDialect; rules: CronRule[]; timezone?: string }
  | { kind: 'interval'; everyMs: number; timezone?: string };

export type CronResult = { ok: true; value: ParsedCron } | { ok: false; error: string };

const monthNames = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const dayNames = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

const macros: Record<string, string> = {
  '@yearly': '0 0 0 1 1 *',
  '@annually': '0 0 0 1 1 *',
  '@monthly': '0 0 0 1 * *',
  '@weekly': '0 0 0 * * 0',
  '@daily': '0 0 0 * * *',
  '@midnight': '0 0 0 * * *',
  '@hourly': '0 0 * * * *',
};

interface FieldDef {
  name: string;
  min: number;
  max: number;
  names?: string[];
  /** Value the first name maps to (1 for months; 0 or 1 for days depending on dialect). */
  nameBase?: number;
  dayField?: boolean;
  /** Where `*` and `a/n` end, when not at `max` (5/6-field day-of-week: 7 is only another name for Sunday). */
  last?: number;
}

class CronSyntaxError extends Error {}

function fail(field: FieldDef, text: string, reason: string): never {
  throw new CronSyntaxError(`${field.name} field "${text}": ${reason}`);
}

function parseValue(field: FieldDef, text: string, token: string): number {
  const upper = token.toUpperCase();
  if (field.names) {
    const index = field.names.indexOf(upper);
    if (index >= 0) return index + (field.nameBase ?? 0);
  }
  if (!/^\d+$/.test(token)) {
    if (/^[A-Z]+$/i.test(token)) fail(field, text, `unknown name "${token}"`);
    fail(field, text, `"${token}" is not a number`);
  }
  const value = Number(token);
  if (value < field.min || value > field.max) fail(field, text, `${value} is out of range ${field.min}–${field.max}`);
  return value;
}

interface FieldResult {
  values: Set<number>;
  /** Unrestricted for the day-of-month/day-of-week OR rule, as the dialect's origin decides (`isStar`). */
  star: boolean;
  /** `#` entries of a day-of-week field: weekday and n. */
  nth: { day: number; n: number }[];
}

/**
 * Whether a day field counts as unrestricted for the day-of-month/day-of-week OR rule. Vixie cron and cronie
 * (`entry.c`: `if (ch == '*') e->flags |= DOM_STAR;`) test the field's first character; robfig/cron
 * (`getRange`) sets its star bit for a list item `*` or `?` and clears it again for a step above 1.
 */
function isStar(dialect: CronDialect, text: string): boolean {
  if (dialect === 'unix') return text.startsWith('*') || text.startsWith('?');
  return text.split(',').some((part) => /^[*?](?:\/0*1)?$/.test(part));
}

function parseField(field: FieldDef, text: string, dialect: CronDialect): FieldResult {
  const values = new Set<number>();
  const nth: FieldResult['nth'] = [];
  const allowWrap = dialect === 'quartz';
  const star = isStar(dialect, text);
  if (text.includes('?') && (!field.dayField || text !== '?')) {
    fail(field, text, field.dayField ? '"?" must stand alone' : '"?" is only allowed in day-of-month and day-of-week');
  }
  if (text === '?') {
    for (let v = field.min; v <= field.max; v++) values.add(v);
    return { values, star, nth };
  }
  for (const part of text.split(',')) {
    if (part === '') fail(field, text, 'empty list item');
    if (/^\d+W$|^LW$/i.test(part)) {
      fail(
        field,
        text,
        '"W" (nearest weekday) is not supported: a Temporal calendar cannot express it; list the days instead',
      );
    }
    // An `L` outside a name (`JUL`): `L`, `5L`, `L-3`.
    const words = part.toUpperCase().match(/[A-Z]+/g) ?? [];
    if (words.some((word) => word.includes('L') && !field.names?.includes(word))) {
      fail(
        field,
        text,
        '"L" (last) is not supported: a Temporal calendar cannot express it for every month; list the days instead',
      );
    }
    if (part.includes('#')) {
      if (field.name !== 'day-of-week') fail(field, text, '"#" is only allowed in day-of-week');
      const [dayText = '', nText = ''] = part.split('#');
      const day = parseValue(field, text, dayText);
      if (!/^[1-5]$/.test(nText)) fail(field, text, `"#${nText}" must be #1 to #5`);
      nth.push({ day, n: Number(nText) });
      continue;
    }
    const [rangeText = '', stepText, extra] = part.split('/');
    if (extra !== undefined) fail(field, text, `"${part}" has more than one "/"`);
    let step = 1;
    if (stepText !== undefined) {
      if (!/^\d+$/.test(stepText) || Number(stepText) === 0)
        fail(field, text, `step "${stepText}" must be a positive number`);
      step = Number(stepText);
      if (step > field.max - field.min + 1 && field.max > 0)
        fail(field, text, `step ${step} is larger than the field's range`);
    }
    let start: number;
    let end: number;
    if (rangeText === '*') {
      start = field.min;
      end = field.last ?? field.max;
    } else if (rangeText.includes('-')) {
      const [a = '', b = '', more] = rangeText.split('-');
      if (more !== undefined || a === '' || b === '') fail(field, text, `"${rangeText}" is not a range`);
      start = parseValue(field, text, a);
      end = parseValue(field, text, b);
    } else {
      start = parseValue(field, text, rangeText);
      // Quartz and robfig: "a/n" runs from a to the field's maximum.
      end = stepText !== undefined ? (field.last ?? field.max) : start;
    }
    if (start <= end) {
      for (let v = start; v <= end; v += step) values.add(v);
    } else if (allowWrap) {
      const span = field.max - field.min + 1;
      for (let offset = 0; offset <= end - start + span; offset += step) {
        values.add(((start - field.min + offset) % span) + field.min);
      }
    } else {
      fail(field, text, `range ${start}-${end} runs backwards`);
    }
  }
  return { values, star, nth };
}

const sorted = (values: Iterable<number>): number[] => [...new Set(values)].sort((a, b) => a - b);
const everyValue = (min: number, max: number): number[] => Array.from({ length: max - min + 1 }, (_, i) => min + i);

function fieldDefs(dialect: CronDialect): FieldDef[] {
  const quartz = dialect === 'quartz';
  return [
    { name: 'second', min: 0, max: 59 },
    { name: 'minute', min: 0, max: 59 },
    { name: 'hour', min: 0, max: 23 },
    { name: 'day-of-month', min: 1, max: 31, dayField: true },
    { name: 'month', min: 1, max: 12, names: monthNames, nameBase: 1 },
    {
      name: 'day-of-week',
      min: quartz ? 1 : 0,
      max: 7,
      names: dayNames,
      nameBase: quartz ? 1 : 0,
      dayField: true,
      ...(quartz ? {} : { last: 6 }),
    },
    // Temporal's server accepts years 2000–2100.
    { name: 'year', min: 2000, max: 2099 },
  ];
}

function buildRules(dialect: CronDialect, fields: string[]): CronRule[] {
  const defs = fieldDefs(dialect);
  const quartz = dialect === 'quartz';
  const parsed = fields.map((text, i) => parseField(defs[i] as FieldDef, text, dialect));
  const [second, minute, hour, dom, month, dow, year] = parsed as [
    FieldResult,
    FieldResult,
    FieldResult,
    FieldResult,
    FieldResult,
    FieldResult,
    FieldResult | undefined,
  ];
  // Normalise day-of-week to 0 = Sunday … 6 = Saturday.
  const toSunday0 = (day: number): number => (quartz ? day - 1 : day % 7);
  const weekdays = sorted([...dow.values].map(toSunday0));
  const base = {
    second: sorted(second.values),
    minute: sorted(minute.values),
    hour: sorted(hour.values),
    month: sorted(month.values),
    ...(fields[2]?.startsWith('*') || fields[2]?.includes('/') ? { followsRealTime: true as const } : {}),
    // Every year: no restriction. (`*/2` starts with `*` but restricts.)
    ...(year && year.values.size < 2099 - 2000 + 1 ? { year: sorted(year.values) } : {}),
  };
  const allDays = everyValue(1, 31);
  const allWeekdays = everyValue(0, 6);
  const domRestricted = !dom.star;
  const dowRestricted = !dow.star;

  if (dow.nth.length > 0) {
    if (domRestricted)
      throw new CronSyntaxError('day-of-week field: "#" cannot be combined with a day-of-month restriction');
    const rules: CronRule[] = dow.nth.map(({ day, n }) => ({
      ...base,
      dayOfMonth: everyValue(7 * n - 6, Math.min(7 * n, 31)),
      dayOfWeek: [toSunday0(day)],
    }));
    if (weekdays.length > 0) rules.push({ ...base, dayOfMonth: allDays, dayOfWeek: weekdays });
    return rules;
  }
  if (domRestricted && dowRestricted) {
    if (quartz) {
      throw new CronSyntaxError('day-of-month and day-of-week are both restricted; Quartz requires "?" in one of them');
    }
    // Vixie cron, cronie and robfig/cron: either day matches.
    return [
      { ...base, dayOfMonth: sorted(dom.values), dayOfWeek: allWeekdays },
      { ...base, dayOfMonth: allDays, dayOfWeek: weekdays },
    ];
  }
  return [{ ...base, dayOfMonth: sorted(dom.values), dayOfWeek: weekdays }];
}

function stripTimezone(expression: string): { rest: string; timezone?: string } {
  const match = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/s.exec(expression);
  return match ? { rest: (match[2] ?? '').trim(), timezone: match[1] } : { rest: expression };
}

/**
 * Parses a cron expression of any supported dialect.
 * @returns the parsed form, or an error naming the field and the reason.
 */
export function parseCron(expression: string): CronResult {
  try {
    const { rest, timezone: prefixZone } = stripTimezone(expression.trim());
    let timezone = prefixZone;
    if (timezone !== undefined) {
      try {
        // The canonical name is the one the server's zone database knows (`asia/shanghai` → `Asia/Shanghai`,
        // `US/Pacific-New` → `America/Los_Angeles`).
        timezone = new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
      } catch {
        return { ok: false, error: `unknown time zone "${timezone}" in prefix` };
      }
    }
    const lower = rest.toLowerCase();
    if (lower.startsWith('@every')) {
      const text = rest.slice('@every'.length).trim();
      const everyMs = everyMillis(text);
      if (everyMs === undefined) {
        return { ok: false, error: `@every "${text}": must be a duration of at least 1s, e.g. "@every 1h30m"` };
      }
      return { ok: true, value: { kind: 'interval', everyMs, ...(timezone ? { timezone } : {}) } };
    }
    if (lower.startsWith('@')) {
      const macro = macros[lower];
      if (!macro)
        return {
          ok: false,
          error: `unknown macro "${rest}"; use @yearly, @monthly, @weekly, @daily, @hourly or @every <duration>`,
        };
      return {
        ok: true,
        value: {
          kind: 'calendar',
          dialect: 'seconds',
          rules: buildRules('seconds', macro.split(' ')),
          ...(timezone ? { timezone } : {}),
        },
      };
    }
    const fields = rest.split(/\s+/).filter(Boolean);
    let dialect: CronDialect;
    if (fields.length === 5) {
      dialect = 'unix';
      fields.unshift('0');
    } else if (fields.length === 6) dialect = 'seconds';
    else if (fields.length === 7) dialect = 'quartz';
    else {
      return {
        ok: false,
        error: `expected 5 fields (min hour dom month dow), 6 (sec min hour dom month dow) or 7 (… year), got ${fields.length}`,
      };
    }
    return {
      ok: true,
      value: { kind: 'calendar', dialect, rules: buildRules(dialect, fields), ...(timezone ? { timezone } : {}) },
    };
  } catch (error) {
    if (error instanceof CronSyntaxError) return { ok: false, error: error.message };
    throw error;
  }
}

const NS_PER_SECOND = 1_000_000_000n;
const goUnits: Record<string, bigint> = {
  ns: 1n,
  us: 1_000n,
  µs: 1_000n,
  μs: 1_000n,
  ms: 1_000_000n,
  s: NS_PER_SECOND,
  m: 60n * NS_PER_SECOND,
  h: 3_600n * NS_PER_SECOND,
};
const GO_DURATION = /^(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/;
const GO_TERM = /(\d*)\.?(\d*)(ns|us|µs|μs|ms|s|m|h)/g;

/**
 * Go's `time.ParseDuration`, in nanoseconds (what robfig/cron's `@every` reads): `1h30m`, `1.5h`, `90s`,
 * `1500ms`. Signs are left out (robfig would turn a negative delay into 1s); Go refuses more than 2⁶³−1 ns.
 */
function parseGoDuration(text: string): bigint | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let total = 0n;
  for (const [, whole = '', fraction = '', unit = ''] of text.matchAll(GO_TERM)) {
    const scale = goUnits[unit] ?? 0n;
    // As Go: whole units exactly, the fraction through a float64 (digits past float precision change nothing).
    const digits = fraction.slice(0, 18);
    const part = digits === '' ? 0 : Math.floor(Number(digits) * (Number(scale) / 10 ** digits.length));
    total += BigInt(whole || '0') * scale + BigInt(part);
  }
  return total < 2n ** 63n ? total : undefined;
}

/**
 * The `@every` interval in milliseconds, truncated to whole seconds as robfig/cron's `Every` (and Temporal's
 * interval spec) truncate it; undefined when malformed or under 1s, which robfig would round up to 1s.
 */
function everyMillis(text: string): number | undefined {
  const ns = parseGoDuration(text);
  if (ns === undefined || ns < NS_PER_SECOND) return undefined;
  const ms = Number(ns / NS_PER_SECOND) * 1000;
  return Number.isSafeInteger(ms) ? ms : undefined;
}
