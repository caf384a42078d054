import { asyncLocalStorage } from '@temporalio/activity';
import type { Client, ScheduleSpecDescription } from '@temporalio/client';
import { decodeScheduleSpec, encodeScheduleSpec } from '@temporalio/client/lib/schedule-helpers.js';
import { isAdditionInterval } from '../tasks/dst-additions.js';
import { DST_REFRESH_MS } from '../tasks/dst-corrections.js';
import { toScheduleSpec } from '../tasks/schedule.js';
import proto from '@temporalio/proto';
import type { Alert } from '../contract/alert.js';
import { previewSchedule } from '../tasks/preview.js';
import type { TaskMetrics } from '../metrics/task-metrics.js';
import { skippedByOverlap } from '../runs/ledger.js';
import { listDeadLetters, type DeadLetter } from '../runs/dead-letters.js';
import { listDeploymentRuns, runsQuery, toRun } from '../runs/runs.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { allPages, listExecutions } from '../temporal/visibility.js';
import { listAudit } from '../tasks/audit.js';
import { parseDuration } from '../tasks/duration.js';
import { TaskNotFoundError } from '../tasks/errors.js';
import type { TaskSpec } from '../tasks/spec.js';
import type { StoredTask, TaskStore } from '../tasks/store.js';
import type { DeliverAlertInput } from '../contract/alert.js';
import { tagStrings } from '../contract/team-scope.js';

/** Without `maxLateness`, a run must start within this of its nominal time. */
export const DEFAULT_MAX_LATENESS_MS = 300_000;
const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
/** Events of a run that no worker has touched yet: started, first workflow task scheduled (and maybe timed out). */
const FRESH_RUN_EVENTS = 4;
/** How often the watchdog's schedule runs a round. */
export const WATCHDOG_INTERVAL_MS = 30_000;
/** How far back past the lateness limit the watchdog looks for fires without a run. */
const LOOKBACK_MS = 600_000;

/** Tells Temporal a long inspection is alive; a no-op when called outside an activity (tests). */
const beat = (): void => asyncLocalStorage.getStore()?.heartbeat();

/** Every task's schedule, described in chunks with a heartbeat after each. */
async function describeAll(store: TaskStore, ids: string[]): Promise<StoredTask[]> {
  const tasks: StoredTask[] = [];
  for (let i = 0; i < ids.length; i += 200) {
    tasks.push(...(await store.getMany(ids.slice(i, i + 200))));
    beat();
  }
  return tasks;
}

/**
 * What the whole audit trail of a deployment says about each task, read page by page (newest first): whether its
 * latest change deleted it, and whether its latest pause or resume paused it. Only these flags are kept, so memory
 * follows the number of tasks, not the length of the trail.
 */
async function auditedState(client: Client, taskQueue: string) {
  const deleted = new Map<string, boolean>();
  const pausedByUs = new Map<string, boolean>();
  let pageToken: string | undefined;
  do {
    const page = await listAudit(client, { pageSize: 1000, taskQueue, ...(pageToken ? { pageToken } : {}) });
    for (const { taskId, action, after } of page.items) {
      if (!deleted.has(taskId)) deleted.set(taskId, action === 'delete' || (action === 'apply' && after === undefined));
      if ((action === 'pause' || action === 'resume') && !pausedByUs.has(taskId)) {
        pausedByUs.set(taskId, action === 'pause');
      }
    }
    pageToken = page.nextPageToken;
    beat();
  } while (pageToken);
  return { deleted, pausedByUs };
}

export interface WatchdogDeps {
  client: Client;
  store: TaskStore;
  metrics?: TaskMetrics;
  /** `SURECRON_DEAD_LETTER_ALERT_AFTER` in ms: dead letters older than this alert; 0 or unset: off. */
  deadLetterAlertAfterMs?: number;
}

/**
 * True when the schedule's spec is no longer the translation of the task's spec. Both sides go through the SDK's
 * encode/decode, the same path the server's description takes, so an untouched schedule compares equal.
 */
export function specChanged(current: ScheduleSpecDescription, spec: TaskSpec): boolean {
  const expected = decodeScheduleSpec(encodeScheduleSpec(toScheduleSpec(spec.schedule)));
  // DST additions depend on when they were computed; the spec proper is everything else.
  const proper = (description: ScheduleSpecDescription) => ({
    ...description,
    intervals: (description.intervals ?? []).filter((interval) => !isAdditionInterval(Number(interval.every))),
  });
  return JSON.stringify(proper(current)) !== JSON.stringify(proper(expected));
}

function alertFor(
  spec: TaskSpec | undefined,
  taskId: string,
  event: Alert['event'],
  summary: string,
  details: Record<string, unknown>,
): DeliverAlertInput {
  return {
    alert: { event, taskId, severity: spec?.alerts?.severity ?? 'P1', at: new Date().toISOString(), summary, details },
    tags: spec ? tagStrings(spec.tags) : [],
    ...(spec?.alerts?.channels ? { channels: spec.alerts.channels } : {}),
    ...(spec?.alerts?.reAlertEvery ? { reAlertMs: parseDuration(spec.alerts.reAlertEvery) } : {}),
  };
}

/**
 * `dead_letter_unresolved`, one per task, for its dead letters that failed before `before` and that nobody has
 * retried or resolved since: how many, and the oldest.
 */
async function agedDeadLetters(
  client: Client,
  taskQueue: string,
  specs: ReadonlyMap<string, TaskSpec>,
  before: number,
): Promise<DeliverAlertInput[]> {
  const letters = await allPages((pageToken) =>
    listDeadLetters(client, {
      taskQueue,
      closedBefore: new Date(before),
      includeErrors: false,
      pageSize: 1000,
      ...(pageToken ? { pageToken } : {}),
    }),
  );
  const aged = new Map<string, DeadLetter[]>();
  for (const letter of letters) aged.set(letter.taskId, [...(aged.get(letter.taskId) ?? []), letter]);
  return [...aged].map(([taskId, letters]) => {
    const oldest = letters.reduce((a, b) => (Date.parse(a.nominalTime) <= Date.parse(b.nominalTime) ? a : b));
    return alertFor(
      specs.get(taskId),
      taskId,
      'dead_letter_unresolved',
      `${taskId} has ${letters.length} dead letter(s) nobody retried or resolved; the oldest is its ${oldest.nominalTime} run`,
      {
        count: letters.length,
        oldestNominalTime: oldest.nominalTime,
        workflowId: oldest.workflowId,
        runId: oldest.runId,
      },
    );
  });
}

/**
 * `run_overdue` for every running run of a task with `maxRuntime` that started longer ago than that: started and
 * ran too long, told apart from never started (`run_late`) and failed (`run_failed`).
 */
async function overdueRuns(
  client: Client,
  taskQueue: string,
  bounded: ReadonlyMap<string, { spec: TaskSpec; maxRuntimeMs: number }>,
  at: number,
): Promise<DeliverAlertInput[]> {
  if (bounded.size === 0) return [];
  const query = runsQuery({ taskQueue }, { status: 'running', taskIds: [...bounded.keys()] });
  const executions = await allPages(async (pageToken) => {
    const page = await listExecutions(client, query, { pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
    return { items: page.executions, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  });
  return executions.flatMap((execution) => {
    const run = toRun(execution);
    const taskId = execution.typedSearchAttributes.get(searchAttributeKeys.taskId) ?? '';
    const limit = bounded.get(taskId);
    const runningForMs = at - Date.parse(run.startedAt);
    if (!limit || runningForMs <= limit.maxRuntimeMs) return [];
    return [
      alertFor(
        limit.spec,
        taskId,
        'run_overdue',
        `${taskId}'s ${run.nominalTime} run is still going after ${Math.round(runningForMs / 1000)} s (maxRuntime ${limit.spec.maxRuntime})`,
        {
          nominalTime: run.nominalTime,
          workflowId: run.workflowId,
          startedAt: run.startedAt,
          runningForMs,
          maxRuntimeMs: limit.maxRuntimeMs,
        },
      ),
    ];
  });
}

/**
 * The dead-man's switch: independent of the schedules it watches, it compares what each task's spec says
 * should have started by now with the runs that exist, and what the audit trail says about each schedule with
 * what Temporal holds. It reports missed and late runs and schedules paused or deleted behind surecron's back.
 */
export function createWatchdogActivities({ client, store, metrics, deadLetterAlertAfterMs }: WatchdogDeps) {
  return {
    async inspectTasks({ now = new Date().toISOString() }: { now?: string } = {}): Promise<DeliverAlertInput[]> {
      const at = Date.parse(now);
      const alerts: DeliverAlertInput[] = [];
      const { deleted, pausedByUs } = await auditedState(client, store.taskQueue);
      const ids = new Set(await store.listIds());

      for (const [taskId, isDeleted] of deleted) {
        if (isDeleted || ids.has(taskId)) continue;
        const exists = await store.get(taskId).then(
          () => true,
          (error: unknown) => (error instanceof TaskNotFoundError ? false : true),
        );
        if (!exists) {
          alerts.push(
            alertFor(undefined, taskId, 'schedule_drift', `the schedule of ${taskId} was deleted outside surecron`, {
              reason: 'deleted',
            }),
          );
        }
      }

      const watched: { spec: TaskSpec; lateness: number; due: string[] }[] = [];
      const bounded = new Map<string, { spec: TaskSpec; maxRuntimeMs: number }>();
      const specs = new Map<string, TaskSpec>();
      for (const task of await describeAll(store, [...ids])) {
        const { id, spec, description, dstHorizonEnd } = task;
        specs.set(id, spec);
        const maxRuntimeMs = spec.maxRuntime ? parseDuration(spec.maxRuntime) : undefined;
        if (maxRuntimeMs) bounded.set(id, { spec, maxRuntimeMs });
        const { state } = description;
        if (dstHorizonEnd !== undefined && dstHorizonEnd - at < DST_REFRESH_MS) {
          await store.renewDstCorrections(task, at);
        }
        const byUs = pausedByUs.get(id) === true || spec.paused;
        const pausedOnFailure = (state.note ?? '').startsWith('paused due to workflow failure');
        if (state.paused && !byUs && !pausedOnFailure) {
          alerts.push(
            alertFor(spec, id, 'schedule_drift', `the schedule of ${id} was paused outside surecron`, {
              reason: 'paused',
              note: state.note,
            }),
          );
        }
        if (specChanged(description.spec, spec)) {
          alerts.push(
            alertFor(spec, id, 'schedule_drift', `the schedule of ${id} was changed outside surecron`, {
              reason: 'changed',
            }),
          );
        }
        if (state.paused || spec.alerts?.onMiss === false) continue;
        // A jittered fire is on time anywhere within its jitter.
        const lateness =
          (spec.maxLateness ? (parseDuration(spec.maxLateness) ?? DEFAULT_MAX_LATENESS_MS) : DEFAULT_MAX_LATENESS_MS) +
          (spec.schedule.jitter ? (parseDuration(spec.schedule.jitter) ?? 0) : 0);
        // Fires after the schedule's last write follow the spec and state it has now; earlier ones are the ledger's.
        const { lastUpdatedAt, createdAt } = description.info;
        const from = Math.max(at - lateness - LOOKBACK_MS, (lastUpdatedAt ?? createdAt).getTime() + 1);
        const until = at - lateness;
        if (from >= until) continue;
        const due = previewSchedule(spec.schedule, { from: new Date(from - 1), count: 200 })
          .map((run) => run.at)
          .filter((nominal) => Date.parse(nominal) <= until);
        if (due.length) watched.push({ spec, lateness, due });
      }
      alerts.push(...(await overdueRuns(client, store.taskQueue, bounded, at)));
      if (deadLetterAlertAfterMs)
        alerts.push(...(await agedDeadLetters(client, store.taskQueue, specs, at - deadLetterAlertAfterMs)));
      if (watched.length === 0) return alerts;

      // One paged query for every watched task's runs in the window, not one per task.
      const nominals = watched.flatMap((task) => task.due.map((nominal) => Date.parse(nominal)));
      const runs = await listDeploymentRuns(client, store.taskQueue, {
        from: new Date(Math.min(...nominals)),
        to: new Date(Math.max(...nominals) + 1000),
      });
      for (const { spec, lateness, due } of watched) {
        const id = spec.id;
        const overdueSince = at - lateness - WATCHDOG_INTERVAL_MS;
        const taskRuns = runs.get(id) ?? [];
        const byNominal = new Map(taskRuns.map((run) => [run.nominalTime, run]));
        for (const nominal of due) {
          const run = byNominal.get(nominal);
          if (!run) {
            // Dropped by the overlap policy while another run went: a skip, as the ledger shows it, not a miss.
            if (skippedByOverlap(spec.overlap, taskRuns, Date.parse(nominal))) continue;
            // Every round looks back 10 minutes and alerts (deduplicated downstream), but a fire is counted as
            // missed once: in the round whose interval it became overdue in. Scheduled rounds are exactly one
            // interval apart, so these windows tile.
            if (Date.parse(nominal) > overdueSince) metrics?.runMissed({ taskId: id });
            alerts.push(
              alertFor(spec, id, 'run_missed', `${id} did not run at ${nominal}`, {
                nominalTime: nominal,
                maxLatenessMs: lateness,
              }),
            );
            continue;
          }
          if (run.status !== 'running') continue;
          const described = await client.workflow.getHandle(run.workflowId).describe();
          const pending = described.raw.pendingActivities ?? [];
          // Started: an attempt is running or was tried. A run whose worker never picked it up has only its
          // start events and no activity at all.
          const handlerStarted =
            pending.some((activity) => activity.state === STARTED || Number(activity.attempt ?? 1) > 1) ||
            (pending.length === 0 && described.historyLength > FRESH_RUN_EVENTS);
          if (!handlerStarted) {
            alerts.push(
              alertFor(spec, id, 'run_late', `${id} has not started its ${nominal} run within ${lateness / 1000} s`, {
                nominalTime: nominal,
                workflowId: run.workflowId,
              }),
            );
          }
        }
      }
      return alerts;
    },
  };
}
