import { parseCron, type ParsedCron } from '../cron/parse.js';
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
