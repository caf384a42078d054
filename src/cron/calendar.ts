import { DAYS_OF_WEEK, MONTHS, type CalendarSpec, type Range } from '@temporalio/client';
import type { CronRule } from './parse.js';

/**
 * Compresses a sorted value set into as few Temporal ranges as possible: runs of consecutive values become
 * `start…end`, arithmetic progressions of three or more become `start…end/step`.
 */
export function toRanges(values: readonly number[]): Range<number>[] {
  const ranges: Range<number>[] = [];
  let i = 0;
  while (i < values.length) {
    const start = values[i] as number;
    const next = values[i + 1];
    if (next === undefined) {
      ranges.push({ start, end: start, step: 1 });
      break;
    }
    const step = next - start;
    let j = i + 1;
    while (j + 1 < values.length && (values[j + 1] as number) - (values[j] as number) === step) j += 1;
    if (step === 1 || j - i >= 2) {
      ranges.push({ start, end: values[j] as number, step });
      i = j + 1;
    } else {
      ranges.push({ start, end: start, step: 1 });
      i += 1;
    }
  }
  return ranges;
}

const isFull = (values: readonly number[], min: number, max: number): boolean => values.length === max - min + 1;

/** Translates one cron rule into a Temporal calendar spec (fields ANDed, as the rule means). */
export function ruleToCalendar(rule: CronRule, comment?: string): CalendarSpec {
  const months = toRanges(rule.month).map(({ start, end, step }) => ({
    start: MONTHS[start - 1] as (typeof MONTHS)[number],
    end: MONTHS[end - 1] as (typeof MONTHS)[number],
    step,
  }));
  const days = toRanges(rule.dayOfWeek).map(({ start, end, step }) => ({
    start: DAYS_OF_WEEK[start] as (typeof DAYS_OF_WEEK)[number],
    end: DAYS_OF_WEEK[end] as (typeof DAYS_OF_WEEK)[number],
    step,
  }));
  return {
    second: toRanges(rule.second),
    minute: toRanges(rule.minute),
    hour: toRanges(rule.hour),
    dayOfMonth: isFull(rule.dayOfMonth, 1, 31) ? '*' : toRanges(rule.dayOfMonth),
    month: isFull(rule.month, 1, 12) ? '*' : months,
    dayOfWeek: isFull(rule.dayOfWeek, 0, 6) ? '*' : days,
    ...(rule.year ? { year: toRanges(rule.year) } : {}),
    ...(comment ? { comment } : {}),
  };
}
