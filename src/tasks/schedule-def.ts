import { parseCron, type CronRule, type ParsedCron } from '../cron/parse.js';
import type { ScheduleDef } from './spec.js';

/** A schedule's cron expressions as a list (`cron` may be one string or several). */
export function cronExpressions(schedule: ScheduleDef): string[] {
  return schedule.cron === undefined ? [] : Array.isArray(schedule.cron) ? schedule.cron : [schedule.cron];
}

export function parsedCrons(schedule: ScheduleDef): ParsedCron[] {
  const list = cronExpressions(schedule);
  return list.map((expression) => {
    const result = parseCron(expression);
    if (!result.ok) throw new Error(`cron "${expression}": ${result.error}`);
    return result.value;
  });
}

/** The time zone a schedule fires in: its `timezone`, or a `CRON_TZ=` prefix, or UTC. */
export function scheduleTimezone(schedule: ScheduleDef): string {
  const prefixed = new Set(parsedCrons(schedule).flatMap((cron) => (cron.timezone ? [cron.timezone] : [])));
  if (prefixed.size > 1) throw new Error('cron expressions name different time zones; a task fires in one time zone');
  const [prefix] = prefixed;
  if (prefix && schedule.timezone && prefix !== schedule.timezone) {
    throw new Error(`cron prefix time zone ${prefix} differs from timezone ${schedule.timezone}`);
  }
  return prefix ?? schedule.timezone ?? 'UTC';
}

/**
 * A calendar whose fires do not depend on the time zone: every hour and every day, and minutes that repeat every
 * quarter hour (`* * * * *`, `*\/5 * * * *`, `*\/15 * * * * *`). Every offset in use is a whole number of quarter
 * hours, so local and UTC minutes match alike.
 */
function zoneFree(rule: CronRule): boolean {
  const minutes = new Set(rule.minute);
  return (
    rule.year === undefined &&
    rule.hour.length === 24 &&
    rule.dayOfMonth.length === 31 &&
    rule.month.length === 12 &&
    rule.dayOfWeek.length === 7 &&
    rule.minute.every((m) => minutes.has((m + 15) % 60))
  );
}

/**
 * The time zone the server walks a schedule's calendars in: UTC when none of them depends on the zone (the
 * server's own walk then has no DST change to get wrong), else the schedule's own.
 */
export function serverTimezone(schedule: ScheduleDef): string {
  const zone = scheduleTimezone(schedule);
  const rules = parsedCrons(schedule).flatMap((cron) => (cron.kind === 'calendar' ? cron.rules : []));
  return rules.length > 0 && rules.every(zoneFree) ? 'UTC' : zone;
}
