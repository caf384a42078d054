import type { CompiledRule } from '../cron/next.js';
import type { CronRule } from '../cron/parse.js';
import type { FireSink } from './run-length.js';

const HOUR = 3_600_000;
const DAY = 86_400_000;
/** `policyFires` walks no day past this year unless the rule names years. */
const LAST_YEAR = 2100;

/** A rule's wall times of day (ms since midnight), ascending: the hour × minute × second product. */
export function timesOfDay(rule: CronRule): number[] {
  const times: number[] = [];
  for (const h of rule.hour)
    for (const m of rule.minute) for (const s of rule.second) times.push(h * HOUR + m * 60_000 + s * 1000);
  return times;
}

/** The step of times of day that repeat evenly across midnight (one a day, or `n` a day `DAY / n` apart), else 0. */
function dailyStep(times: readonly number[]): number {
  const step = times.length === 1 ? DAY : (times[1] as number) - (times[0] as number);
  for (let i = 1; i < times.length; i++) if ((times[i] as number) - (times[i - 1] as number) !== step) return 0;
  return (times[0] as number) + DAY - (times.at(-1) as number) === step ? step : 0;
}

const daysInMonth = (month: number, year: number): number => new Date(Date.UTC(year, month, 0)).getUTCDate();

/**
 * A calendar rule's fires in `[fromMs, toMs)` where the zone's UTC offset is `offset` throughout (no DST change
 * within two days of the window): each matching wall day's times of day, less the offset. The same fires
 * `policyFires` yields there. A rule that matches every day at evenly spaced times is one progression.
 */
export function steadyOffsetFires(
  rule: CronRule,
  compiled: CompiledRule,
  times: readonly number[],
  offset: number,
  fromMs: number,
  toMs: number,
  sink: FireSink,
): void {
  const first = times[0];
  const latest = times.at(-1);
  if (first === undefined || latest === undefined || !(fromMs < toMs)) return;
  const lastYear = rule.year ? Math.max(...rule.year) : LAST_YEAR;
  const firstDay = Math.floor((fromMs + offset - latest) / DAY) * DAY;
  const lastDay = Math.min(Math.floor((toMs - 1 + offset - first) / DAY) * DAY, Date.UTC(lastYear + 1, 0, 1) - DAY);
  if (lastDay < firstDay) return;
  const everyDay =
    !rule.year && rule.month.length === 12 && rule.dayOfMonth.length === 31 && rule.dayOfWeek.length === 7;
  const step = everyDay ? dailyStep(times) : 0;
  if (step > 0) {
    const base = firstDay + first - offset;
    const lo = Math.max(0, Math.ceil((fromMs - base) / step));
    const hi = Math.floor((Math.min(toMs - 1, lastDay + latest - offset) - base) / step);
    if (hi >= lo) sink.pushProgression(base + lo * step, step, hi - lo + 1);
    return;
  }
  const date = new Date(firstDay);
  let [year, month, day, weekday] = [
    date.getUTCFullYear(),
    date.getUTCMonth() + 1,
    date.getUTCDate(),
    date.getUTCDay(),
  ];
  let monthDays = daysInMonth(month, year);
  for (let dayMs = firstDay; dayMs <= lastDay; dayMs += DAY) {
    if (
      everyDay ||
      (compiled.year(year) &&
        compiled.month.has(month) &&
        compiled.dayOfMonth.has(day) &&
        compiled.dayOfWeek.has(weekday))
    ) {
      for (const time of times) {
        const at = dayMs + time - offset;
        if (at >= fromMs && at < toMs) sink.push(at);
      }
    }
    weekday = (weekday + 1) % 7;
    if (++day > monthDays) {
      day = 1;
      if (++month > 12) [month, year] = [1, year + 1];
      monthDays = daysInMonth(month, year);
    }
  }
}
