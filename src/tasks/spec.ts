import { z } from 'zod';
import { CIRCUIT_KEY_PATTERN } from '../contract/circuit.js';
import { GROUP_NAME_PATTERN } from '../contract/group.js';
import type { HandlerDef } from '../contract/run.js';
import { parseCron } from '../cron/parse.js';
import { duration, parseDuration } from './duration.js';

/** Task ids double as Schedule ids and workflow id prefixes. */
export const taskIdSchema = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,62}$/,
    'must be 1–63 characters: lowercase letters, digits, "-", "_", "." (starting with a letter or digit)',
  );

/** The IANA name the platform resolves `zone` to (e.g. `utc` → `UTC`), or undefined for an unknown zone. */
export function canonicalTimeZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** An IANA time zone, stored under its canonical name, which is the one the Temporal server knows. */
const timezone = z.string().transform((zone, ctx) => {
  const canonical = canonicalTimeZone(zone);
  if (!canonical) {
    ctx.addIssue({ code: 'custom', message: `unknown time zone "${zone}"` });
    return z.NEVER;
  }
  return canonical;
});
const isoInstant = z.iso.datetime({ offset: true });

const cronExpression = z.string().superRefine((expression, ctx) => {
  const result = parseCron(expression);
  if (!result.ok) ctx.addIssue({ code: 'custom', message: result.error });
});

export const scheduleSchema = z
  .strictObject({
    cron: z.union([cronExpression, z.array(cronExpression).min(1).max(32)]).optional(),
    every: duration({ min: 1000 }).optional(),
    offset: duration({ positive: false }).optional(),
    timezone: timezone.optional(),
    jitter: duration({ positive: false }).optional(),
    /** What a fixed-time fire does in a DST gap or repeated hour; see README "Time zones and DST". */
    dst: z
      .strictObject({
        skipped: z.enum(['shift', 'skip']).optional(),
        repeated: z.enum(['once', 'twice']).optional(),
      })
      .optional(),
    startAt: isoInstant.optional(),
    endAt: isoInstant.optional(),
  })
  .superRefine((schedule, ctx) => {
    if (schedule.cron === undefined && schedule.every === undefined) {
      ctx.addIssue({ code: 'custom', message: 'needs "cron" or "every"', path: [] });
    }
    if (schedule.offset !== undefined && schedule.every === undefined) {
      ctx.addIssue({ code: 'custom', message: '"offset" only applies to "every"', path: ['offset'] });
    }
    if (schedule.startAt && schedule.endAt && Date.parse(schedule.startAt) >= Date.parse(schedule.endAt)) {
      ctx.addIssue({ code: 'custom', message: 'must be after startAt', path: ['endAt'] });
    }
  });

const httpMethod = z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']);
const headerName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'not a valid header name');

export const functionHandlerSchema = z.strictObject({
  type: z.literal('function'),
  name: z.string().min(1),
  input: z.unknown().optional(),
});

export const httpHandlerSchema = z.strictObject({
  type: z.literal('http'),
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  method: httpMethod.default('POST'),
  headers: z.record(headerName, z.string().max(8192)).optional(),
  /** Header names whose values are secrets: write-only, redacted in logs and API responses. */
  secretHeaders: z.array(headerName).optional(),
  body: z.unknown().optional(),
  timeout: duration().optional(),
  expectStatus: z
    .union([z.number().int().min(100).max(599), z.array(z.number().int().min(100).max(599)).min(1)])
    .optional(),
});

export const workflowHandlerSchema = z.strictObject({
  type: z.literal('workflow'),
  name: z.string().min(1),
  input: z.unknown().optional(),
});

/** Validates a handler into the run contract's shape (a compile error here means the two drifted apart). */
export const handlerSchema = z.discriminatedUnion('type', [
  functionHandlerSchema,
  httpHandlerSchema,
  workflowHandlerSchema,
]) satisfies z.ZodType<HandlerDef>;

export const retrySchema = z.strictObject({
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  initialInterval: duration().optional(),
  backoffCoefficient: z.number().min(1).max(100).optional(),
  maxInterval: duration().optional(),
  nonRetryable: z.array(z.string().min(1)).optional(),
});

export const timeoutsSchema = z.strictObject({
  attempt: duration().optional(),
  total: duration().optional(),
  heartbeat: duration().optional(),
});

export const overlapPolicies = [
  'skip',
  'buffer_one',
  'buffer_all',
  'cancel_other',
  'terminate_other',
  'allow_all',
] as const;

const groupName = z
  .string()
  .regex(GROUP_NAME_PATTERN, 'letters, digits, ".", "_" or "-", starting with a letter or digit, at most 64');

/** At most `limit` runs of the group's tasks and jobs hold a permit (run their handler) at once, deployment-wide. */
export const concurrencySchema = z.strictObject({
  group: groupName,
  limit: z.number().int().min(1).max(10_000),
});

/** Handler starts of the group's tasks and jobs, spread to this rate across the deployment. */
export const rateLimitSchema = z
  .strictObject({
    group: groupName,
    perSecond: z.number().positive().max(1000).optional(),
    perMinute: z.number().positive().max(60_000).optional(),
  })
  .refine((rate) => (rate.perSecond === undefined) !== (rate.perMinute === undefined), {
    message: 'give exactly one of perSecond and perMinute',
  });

/**
 * A circuit breaker on the dependency the handler calls, shared by every task and job with the same `key`: once
 * `failures` of its last `window` calls failed it opens, and for `openFor` no attempt calls it; then one trial call
 * closes it again or reopens it.
 */
export const circuitBreakerSchema = z
  .strictObject({
    /** Default: the http handler's origin; a function handler names its dependency. */
    key: z
      .string()
      .regex(CIRCUIT_KEY_PATTERN, 'letters, digits and ". _ : / @ -", starting with a letter or digit, at most 200')
      .optional(),
    failures: z.number().int().min(1).max(1000).default(5),
    window: z.number().int().min(1).max(1000).default(10),
    openFor: duration({ min: 1000 }).default('5s'),
    onOpen: z.enum(['wait', 'fail']).default('wait'),
  })
  .refine((breaker) => breaker.failures <= breaker.window, {
    message: 'failures must be at most window',
    path: ['failures'],
  });

const severity = z.enum(['P0', 'P1', 'P2']);

export const alertsSchema = z.strictObject({
  severity: severity.default('P1'),
  onFailure: z.boolean().default(true),
  onRecovery: z.boolean().default(true),
  onMiss: z.boolean().default(true),
  consecutiveFailures: z.number().int().min(1).max(1000).optional(),
  channels: z.array(z.string().min(1)).optional(),
  /** While a condition the watchdog finds persists unacknowledged, alert again this often (default: 10 minutes). */
  reAlertEvery: duration({ min: 1000 }).optional(),
});

export const notifySchema = z.strictObject({
  onSuccess: z.url({ protocol: /^https?$/ }).optional(),
  onFailure: z.url({ protocol: /^https?$/ }).optional(),
});

/**
 * A task: a schedule, a handler and the policies that govern its runs. Unknown fields are refused so that a
 * typo never silently drops a policy.
 */
export const taskSpecSchema = z
  .strictObject({
    id: taskIdSchema,
    description: z.string().max(1000).optional(),
    tags: z.record(z.string().min(1).max(63), z.string().max(256)).optional(),
    schedule: scheduleSchema,
    handler: handlerSchema,
    retry: retrySchema.optional(),
    timeouts: timeoutsSchema.optional(),
    overlap: z.enum(overlapPolicies).default('skip'),
    catchupWindow: duration({ min: 10_000 }).optional(),
    pauseOnFailure: z.boolean().default(false),
    maxRuns: z.number().int().min(1).optional(),
    paused: z.boolean().default(false),
    note: z.string().max(1000).optional(),
    alerts: alertsSchema.optional(),
    maxLateness: duration().optional(),
    /** A run still going this long after it started alerts `run_overdue` (the watchdog checks every round). */
    maxRuntime: duration({ min: 1000 }).optional(),
    notify: notifySchema.optional(),
    concurrency: concurrencySchema.optional(),
    rateLimit: rateLimitSchema.optional(),
    circuitBreaker: circuitBreakerSchema.optional(),
    /** Where the handler runs: in the workflow task (`local`), as an activity task, or `auto` (see execution.ts). */
    execution: z.enum(['auto', 'local', 'activity']).optional(),
  })
  .superRefine((spec, ctx) => {
    const { retry, timeouts } = spec;
    if (spec.execution === 'local' && spec.handler.type === 'workflow') {
      ctx.addIssue({ code: 'custom', message: 'a workflow handler runs as a child workflow', path: ['execution'] });
    }
    const breaker = spec.circuitBreaker;
    if (breaker && spec.handler.type === 'workflow') {
      ctx.addIssue({
        code: 'custom',
        message: 'a circuit breaker guards an http or function handler, not a workflow',
        path: ['circuitBreaker'],
      });
    }
    if (breaker && spec.handler.type === 'function' && breaker.key === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'a function handler names the dependency its breaker guards',
        path: ['circuitBreaker', 'key'],
      });
    }
    if (breaker && spec.execution === 'local') {
      ctx.addIssue({
        code: 'custom',
        message: 'a task with a circuit breaker runs its attempts as activities',
        path: ['execution'],
      });
    }
    if (spec.execution === 'local' && timeouts?.heartbeat) {
      ctx.addIssue({ code: 'custom', message: 'a local activity cannot heartbeat', path: ['execution'] });
    }
    if (retry?.initialInterval && retry.maxInterval) {
      if (durationMs(retry.maxInterval) < durationMs(retry.initialInterval)) {
        ctx.addIssue({ code: 'custom', message: 'must be at least initialInterval', path: ['retry', 'maxInterval'] });
      }
    }
    if (timeouts?.attempt && timeouts.total && durationMs(timeouts.total) < durationMs(timeouts.attempt)) {
      ctx.addIssue({ code: 'custom', message: 'must be at least timeouts.attempt', path: ['timeouts', 'total'] });
    }
  });

function durationMs(text: string): number {
  return parseDuration(text) ?? 0;
}

/** A task as written by its author (defaults not yet applied). */
export type TaskSpecInput = z.input<typeof taskSpecSchema>;
/** A validated task with defaults applied. */
export type TaskSpec = z.output<typeof taskSpecSchema>;
export type ScheduleDef = TaskSpec['schedule'];
export type RetryDef = z.output<typeof retrySchema>;
export type TimeoutsDef = z.output<typeof timeoutsSchema>;
export type ConcurrencyDef = z.output<typeof concurrencySchema>;
export type RateLimitDef = z.output<typeof rateLimitSchema>;
export type CircuitBreakerDef = z.output<typeof circuitBreakerSchema>;

/** A rate limit in starts per second (the schema requires one of its two forms). */
export const perSecondOf = (rate: RateLimitDef): number => rate.perSecond ?? (rate.perMinute as number) / 60;
