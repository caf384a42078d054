import { tagStrings } from '../contract/team-scope.js';
import { createHash } from 'node:crypto';
import type { ScheduleOptions, ScheduleOverlapPolicy, ScheduleSpec } from '@temporalio/client';
import type { SearchAttributePair } from '@temporalio/common';
import { ruleToCalendar } from '../cron/calendar.js';
import type { RunGroup } from '../contract/group.js';
import type { RunCircuit } from '../contract/circuit.js';
import { runSearchAttributes, type RunTaskInput } from '../contract/run.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { parseDuration } from './duration.js';
import { additionInterval } from './dst-additions.js';
import { dstCorrections, type DstCorrections } from './dst-corrections.js';
import { cronExpressions, parsedCrons, serverTimezone } from './schedule-def.js';
import { perSecondOf, type ScheduleDef, type TaskSpec } from './spec.js';
import { workflowTypes } from '../contract/workflow-types.js';
import { runsLocally } from './execution.js';
import { taskDefaults } from './task-defaults.js';

/** Who manages a task: tasks declared in code are reconciled by `apply`; the API never prunes them, and vice versa. */
export type TaskSource = 'code' | 'api';

/** The surecron part of a Schedule's action memo: the spec it was made from. */
export interface TaskMemo {
  source: TaskSource;
  specHash: string;
  spec: TaskSpec;
  /** Until when the schedule's DST corrections hold (ISO 8601); the watchdog renews them before then. */
  dstHorizonEnd?: string;
}

export const MEMO_KEY = 'surecron';

const ms = (text: string | undefined): number | undefined => (text === undefined ? undefined : parseDuration(text));

/** A stable hash of a spec: equal specs, equal hashes, whatever the key order. */
export function specHash(spec: TaskSpec): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === 'object') {
      return Object.fromEntries(
        Object.entries(value)
          .filter(([, v]) => v !== undefined)
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([k, v]) => [k, canonical(v)]),
      );
    }
    return value;
  };
  return createHash('sha256')
    .update(JSON.stringify(canonical(spec)))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Translates a task's schedule into a Temporal ScheduleSpec: cron expressions become structured calendars
 * (never Temporal's own cron strings, whose dialect differs), `every` and `@every` become intervals.
 * @throws {Error} when the schedule cannot be translated (conflicting time zones).
 */
export function toScheduleSpec(schedule: ScheduleDef, corrections?: DstCorrections): ScheduleSpec {
  const calendars: NonNullable<ScheduleSpec['calendars']> = [];
  const intervals: NonNullable<ScheduleSpec['intervals']> = [];
  const crons = cronExpressions(schedule);
  parsedCrons(schedule).forEach((cron, i) => {
    if (cron.kind === 'interval') intervals.push({ every: cron.everyMs });
    else calendars.push(...cron.rules.map((rule) => ruleToCalendar(rule, crons[i])));
  });
  if (schedule.every) intervals.push({ every: ms(schedule.every) as number, offset: ms(schedule.offset) ?? 0 });
  for (const at of corrections?.additions ?? []) intervals.push(additionInterval(at));
  return {
    ...(calendars.length ? { calendars } : {}),
    ...(intervals.length ? { intervals } : {}),
    timezone: serverTimezone(schedule),
    ...(schedule.jitter ? { jitter: ms(schedule.jitter) } : {}),
    ...(schedule.startAt ? { startAt: new Date(schedule.startAt) } : {}),
    ...(schedule.endAt ? { endAt: new Date(schedule.endAt) } : {}),
  };
}

const isoMs = (at: number): string => new Date(at).toISOString();

/** A task's (or job's) groups as its runs receive them. */
export function runGroups({
  concurrency,
  rateLimit,
}: Pick<TaskSpec, 'concurrency' | 'rateLimit'>): RunGroup[] | undefined {
  const groups: RunGroup[] = [
    ...(concurrency
      ? [{ group: concurrency.group, policy: { kind: 'concurrency' as const, limit: concurrency.limit } }]
      : []),
    ...(rateLimit
      ? [
          {
            group: rateLimit.group,
            policy: { kind: 'rate' as const, perSecond: perSecondOf(rateLimit) },
          },
        ]
      : []),
  ];
  return groups.length ? groups : undefined;
}

/** A task's (or job's) circuit breaker as its runs receive it: the key resolved, durations in ms. */
export function runCircuit({
  circuitBreaker: breaker,
  handler,
  alerts,
}: Pick<TaskSpec, 'circuitBreaker' | 'handler' | 'alerts'>): RunCircuit | undefined {
  if (!breaker) return undefined;
  const key = breaker.key ?? (handler.type === 'http' ? new URL(handler.url).origin : undefined);
  if (key === undefined) return undefined;
  return {
    key,
    policy: { failures: breaker.failures, window: breaker.window, openForMs: ms(breaker.openFor) as number },
    onOpen: breaker.onOpen,
    alerts: { severity: alerts?.severity ?? 'P1', ...(alerts?.channels ? { channels: alerts.channels } : {}) },
  };
}

/** The input every run of the task receives: its handler, resolved activity policies, groups and DST skips. */
export function toRunInput(spec: TaskSpec, corrections?: DstCorrections): RunTaskInput {
  const { retry, timeouts } = spec;
  const attemptMs = ms(timeouts?.attempt ?? taskDefaults.attemptTimeout) ?? 0;
  const livenessMs = ms(taskDefaults.livenessTimeout) ?? 0;
  // Without a declared heartbeat, an attempt longer than the liveness timeout is kept alive by its worker.
  const workerHeartbeats = !timeouts?.heartbeat && attemptMs > livenessMs;
  const heartbeatTimeout = timeouts?.heartbeat ? ms(timeouts.heartbeat) : workerHeartbeats ? livenessMs : undefined;
  const alerts = spec.alerts ?? { severity: 'P1', onFailure: true, onRecovery: true, onMiss: true };
  const groups = runGroups(spec);
  const circuit = runCircuit(spec);
  return {
    taskId: spec.id,
    handler: spec.handler,
    alerts: {
      severity: alerts.severity,
      onFailure: alerts.onFailure,
      onRecovery: alerts.onRecovery,
      ...(alerts.consecutiveFailures ? { consecutiveFailures: alerts.consecutiveFailures } : {}),
      ...(alerts.channels ? { channels: alerts.channels } : {}),
    },
    ...(spec.notify ? { notify: spec.notify } : {}),
    ...(runsLocally(spec) ? { localActivity: true as const } : {}),
    ...(workerHeartbeats ? { workerHeartbeats: true as const } : {}),
    ...(spec.tags ? { tags: tagStrings(spec.tags) } : {}),
    ...(corrections?.skips.length
      ? { dstSkips: corrections.skips.map(([from, to]): [string, string] => [isoMs(from), isoMs(to)]) }
      : {}),
    ...(groups ? { groups } : {}),
    ...(circuit ? { circuit } : {}),
    activity: {
      startToCloseTimeout: attemptMs,
      ...(timeouts?.total ? { scheduleToCloseTimeout: ms(timeouts.total) } : {}),
      ...(heartbeatTimeout ? { heartbeatTimeout } : {}),
      retry: {
        maximumAttempts: retry?.maxAttempts ?? taskDefaults.maxAttempts,
        initialInterval: ms(retry?.initialInterval ?? taskDefaults.initialInterval),
        backoffCoefficient: retry?.backoffCoefficient ?? taskDefaults.backoffCoefficient,
        maximumInterval: ms(retry?.maxInterval ?? taskDefaults.maxInterval),
        ...(retry?.nonRetryable ? { nonRetryableErrorTypes: retry.nonRetryable } : {}),
      },
    },
  };
}

const overlapPolicy: Record<TaskSpec['overlap'], ScheduleOverlapPolicy> = {
  skip: 'SKIP',
  buffer_one: 'BUFFER_ONE',
  buffer_all: 'BUFFER_ALL',
  cancel_other: 'CANCEL_OTHER',
  terminate_other: 'TERMINATE_OTHER',
  allow_all: 'ALLOW_ALL',
};

/** One line describing a spec, for the Web UI. */
export function summarizeSpec(spec: TaskSpec): string {
  const { schedule, handler } = spec;
  const when = [
    ...cronExpressions(schedule).map((c) => `cron "${c}"`),
    ...(schedule.every ? [`every ${schedule.every}${schedule.offset ? ` +${schedule.offset}` : ''}`] : []),
  ].join(' or ');
  const what =
    handler.type === 'http' ? `${handler.method} ${new URL(handler.url).origin}` : `${handler.type} ${handler.name}`;
  const retry = `${spec.retry?.maxAttempts ?? taskDefaults.maxAttempts} attempts`;
  const breaker = runCircuit(spec);
  const guarded = breaker ? `; circuit breaker ${breaker.key}` : '';
  return `${when} (${schedule.timezone ?? 'UTC'}) → ${what}; ${retry}; overlap ${spec.overlap}${guarded}`;
}

/** The note a Schedule shows in the Web UI. */
export function scheduleNote(spec: TaskSpec, source: TaskSource): string {
  return spec.note ?? `${spec.description ?? spec.id} (surecron, from ${source})`;
}

/** The search attributes of a task's Schedule: its deployment (task queue) and its tags as `key=value`. */
export function scheduleSearchAttributes(spec: TaskSpec, taskQueue: string): SearchAttributePair[] {
  const tags = tagStrings(spec.tags);
  return [
    { key: searchAttributeKeys.taskQueue, value: taskQueue },
    ...(tags.length ? [{ key: searchAttributeKeys.tags, value: tags }] : []),
  ];
}

/** The full Schedule for a task; the schedule id is the task id. */
export function toScheduleOptions(
  spec: TaskSpec,
  {
    taskQueue,
    source,
    now = Date.now(),
    dstHorizonMs,
  }: { taskQueue: string; source: TaskSource; now?: number; dstHorizonMs?: number },
): ScheduleOptions {
  const corrections = dstCorrections(spec.schedule, now, dstHorizonMs);
  const memo: TaskMemo = {
    source,
    specHash: specHash(spec),
    spec,
    ...(spec.schedule.cron !== undefined ? { dstHorizonEnd: isoMs(corrections.horizonEnd) } : {}),
  };
  return {
    scheduleId: spec.id,
    spec: toScheduleSpec(spec.schedule, corrections),
    action: {
      type: 'startWorkflow',
      workflowType: workflowTypes.runTask,
      workflowId: spec.id,
      taskQueue,
      args: [toRunInput(spec, corrections)],
      memo: { [MEMO_KEY]: memo },
      typedSearchAttributes: runSearchAttributes(spec.id, 'schedule'),
      staticSummary: spec.description ?? `surecron task ${spec.id}`,
    },
    policies: {
      overlap: overlapPolicy[spec.overlap],
      catchupWindow: ms(spec.catchupWindow ?? taskDefaults.catchupWindow),
      pauseOnFailure: spec.pauseOnFailure,
    },
    state: {
      paused: spec.paused,
      note: scheduleNote(spec, source),
      ...(spec.maxRuns ? { remainingActions: spec.maxRuns } : {}),
    },
    // Shown on the schedule in the Web UI. A schedule's memo is fixed at creation; the current spec is in the
    // action memo (`surecron.spec`), which every run carries too.
    memo: { [MEMO_KEY]: { source, taskId: spec.id, taskQueue, summary: summarizeSpec(spec) } },
    typedSearchAttributes: scheduleSearchAttributes(spec, taskQueue),
  };
}
