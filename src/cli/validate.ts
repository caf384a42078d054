import { InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { taskIdSchema } from '../tasks/spec.js';
import { UsageError } from './errors.js';

/** Zod issues as one line: `schedule.cron: …; retry.bogus: unknown field`. */
export function formatIssues(error: z.ZodError, prefix = ''): string {
  return error.issues
    .flatMap((issue) => {
      const path = (extra: PropertyKey[] = []) => [...issue.path, ...extra].map(String).join('.');
      const at = (p: string) => `${prefix}${p}`.replace(/\.$/, '');
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${at(path([key]))}: unknown field`);
      const where = at(path());
      return where ? `${where}: ${issue.message}` : issue.message;
    })
    .join('; ');
}

/** Validates `value` or throws a UsageError naming `what`. */
export function check<T extends z.ZodType>(schema: T, value: unknown, what: string): z.output<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`invalid ${what}: ${formatIssues(result.error)}`);
  return result.data;
}

/** Refuses an empty or reversed `--from`/`--to` range. */
export function checkRange(from: string | undefined, to: string | undefined): void {
  if (from !== undefined && to !== undefined && Date.parse(from) >= Date.parse(to)) {
    throw new UsageError('--to must be after --from');
  }
}

/** A commander argument parser backed by a zod schema (failures become usage errors, exit 2). */
export function parser<T extends z.ZodType>(schema: T): (value: string) => z.output<T> {
  return (value) => {
    const result = schema.safeParse(value);
    if (!result.success) throw new InvalidArgumentError(formatIssues(result.error));
    return result.data;
  };
}

/** An ISO 8601 instant; offsets are accepted and normalised to UTC. */
export const isoTime = z.iso
  .datetime({ offset: true })
  .transform((value) => (value.endsWith('Z') ? value : new Date(value).toISOString()));
export const pageSize = z.coerce.number().int().min(1).max(1000);
export const pageToken = z.string().regex(/^[A-Za-z0-9_-]+$/, 'invalid page token');
export const tagFilter = z.string().regex(/^[^=]{1,63}=.{0,256}$/, 'must be key=value');
export const booleanText = z.enum(['true', 'false']);
export const count = z.coerce.number().int().min(1).max(1000);
export const nonEmpty = z.string().trim().min(1, 'must not be empty');
/** JSON text, parsed. */
export const jsonText = z.string().transform((text, ctx) => {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not valid JSON (${(error as Error).message})` });
    return z.NEVER;
  }
});

/** Parses a task id argument with the API's schema. */
export const taskId = parser(taskIdSchema);
