import type { Client, ScheduleSpecDescription, WorkflowExecutionInfo } from '@temporalio/client';
import proto from '@temporalio/proto';
import { PERMIT_GRANTED_SIGNAL, type GroupKind, type PermitGrant } from '../contract/group.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { WATCHDOG_SCHEDULE_ID, workflowTypes } from '../contract/workflow-types.js';
import { listAudit, type AuditEntry } from '../tasks/audit.js';
import { parseDuration } from '../tasks/duration.js';
import { TaskNotFoundError } from '../tasks/errors.js';
import { dstPolicyOf, scheduleFires, type DstEvent, type Fire } from '../tasks/fires.js';
import { taskDefaults } from '../tasks/task-defaults.js';
import { scheduleTimezone } from '../tasks/schedule-def.js';
import type { ScheduleDef, TaskSpec } from '../tasks/spec.js';
import type { TaskStore } from '../tasks/store.js';
import { allPages, listExecutions, quote } from '../temporal/visibility.js';
import { DST_REACH_MS, droppedInstants } from './dst-drops.js';
import { PENDING_GRACE_MS, specTimeline, type SpecSegment } from './ledger.js';
import { eventTime, RunNotFoundError, runDetail, type Attempt } from './run-detail.js';
import { listGroups } from './groups.js';
import { listRuns, runsQuery, type Run } from './runs.js';

const { EventType } = proto.temporal.api.enums.v1;

export { droppedInstants };

/** Every answer `explain` gives, most specific cause first. */
export const explainVerdicts = [
  'ran',
  'running',
  'pending',
  'not_a_fire_time',
  'paused',
  'skipped_overlap',
  'outside_catchup_window',
  'dst_policy',
  'dropped_by_pause',
  'no_worker',
  'schedule_drift',
  'duplicate',
  'missed',
] as const;
export type ExplainVerdict = (typeof explainVerdicts)[number];

/** A run with what its history says about its pickup. */
export interface RunEvidence extends Run {
  /** When a worker first took its workflow task; absent while none has. */
  pickedUpAt?: string;
  /** The identity of that worker (`pid@host`). */
  pickedUpBy?: string;
  /** The run's concurrency and rate groups: when it asked each, and when (if yet) it was granted. */
  groups?: GroupHold[];
  /** Each time its dependency's open circuit breaker turned an attempt away, and when the run tried again. */
  circuit?: CircuitHold[];
}

/** An attempt an open breaker turned away (the handler was not called), from the run's history. */
export interface CircuitHold {
  key: string;
  refusedAt: string;
  /** When the breaker told it to try again. */
  retryAt: string;
  /** When the run scheduled its next attempt; absent while it waits. */
  resumedAt?: string;
}

/** A run's wait for one group's permit, from its history. */
export interface GroupHold {
  group: string;
  kind: GroupKind;
  requestedAt: string;
  grantedAt?: string;
}

/** One round of the watchdog (its schedule starts one every 30 s on the deployment's task queue). */
export interface WatchdogRound {
  workflowId: string;
  /** When its schedule started it. */
  startedAt: string;
  /** When a worker of the deployment's task queue first took it; absent while none has. */
  pickedUpAt?: string;
  pickedUpBy?: string;
}

/** A start of a scheduled execution (a run of the task, a watchdog round): proof the scheduler worked then. */
export interface ScheduledStart {
  workflowId: string;
  /** The time it was due. */
  scheduledAt: string;
  /** When the server started it. */
  startedAt: string;
}

/** The task's schedule as the server holds it now. */
export interface ScheduleState {
  exists: boolean;
  paused?: boolean;
  note?: string;
  /** The server's time of its last write. */
  lastWrittenAt?: string;
  /** Its spec is no longer the translation of the task's (audited) spec. */
  specChanged?: boolean;
  /** The scheduler's own counter of fires it dropped as older than the catch-up window. */
  missedCatchupWindow?: number;
}

/** Everything the verdict rests on, gathered from Temporal (or made by hand in a test). */
export interface ExplainFacts {
  taskId: string;
  /** The instant asked about (ms). */
  at: number;
  now: number;
  /** The task's whole audit trail (any order). */
  entries: readonly AuditEntry[];
  /** Runs whose nominal time is `at`. */
  runs: readonly RunEvidence[];
  /** Other runs of the task that were going at `at`. */
  going: readonly RunEvidence[];
  schedule: ScheduleState;
  /** The last scheduled start at or before `at`, and the first after it (the task's runs, watchdog rounds). */
  starts: { before?: ScheduledStart; after?: ScheduledStart };
  /** The task's own last run started at or before `at`, and its first after it. */
  runStarts: { before?: ScheduledStart; after?: ScheduledStart };
  /** The watchdog's rounds around `at`: the one in force then and the next. */
  watchdog: readonly WatchdogRound[];
  /** The fire-time walk (the unit tests pass a hand-made one). */
  walk?: typeof scheduleFires;
}

export interface Explanation {
  verdict: ExplainVerdict;
  /** One line saying why. */
  summary: string;
  evidence: Record<string, unknown>;
}

export interface ExplainResult extends Explanation {
  taskId: string;
  /** The instant asked about. */
  at: string;
  /** The nominal time explained: `at` when it is a fire time. */
  nominalTime?: string;
  /** When `at` is not a fire time: the verdicts of the fire times either side of it under the spec then. */
  neighbours?: (Explanation & { nominalTime: string })[];
}

const SECOND = 1000;
const HOUR = 3_600_000;
const DAY = 86_400_000;
/** A scheduled start later than this after its due time is a catch-up (or a buffered fire), not routine latency. */
export const LATE_START_MS = 2_000;
/** The scheduler judges the catch-up window a moment before it starts the first catch-up run. */
const SCHEDULER_SLACK_MS = 3_000;
/** How far the neighbouring fire times are looked for. */
const NEIGHBOUR_REACH_MS = 5 * 366 * DAY;

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const ms = (time: string | undefined): number | undefined => (time === undefined ? undefined : Date.parse(time));

/** What `at` is under a schedule: one of its fires, a time a DST policy dropped, or neither (with neighbours). */
export type InstantKind =
  { kind: 'fire'; fire: Fire } | { kind: 'dst'; event: DstEvent } | { kind: 'none'; previous?: number; next?: number };

export function classifyInstant(schedule: ScheduleDef, at: number, walk = scheduleFires): InstantKind {
  const { fires, dstEvents } = walk(schedule, at - DST_REACH_MS, at + DST_REACH_MS + 1);
  const fire = fires.find((f) => f.atMs === at);
  if (fire) return { kind: 'fire', fire };
  const zone = scheduleTimezone(schedule);
  const event = dstEvents.find((e) => droppedInstants(e, zone).includes(at));
  if (event) return { kind: 'dst', event };
  let previous = fires.filter((f) => f.atMs < at).at(-1)?.atMs;
  let next = fires.find((f) => f.atMs > at)?.atMs;
  for (let reach = DST_REACH_MS * 10; previous === undefined && reach <= NEIGHBOUR_REACH_MS * 10; reach *= 10) {
    previous = walk(schedule, at - Math.min(reach, NEIGHBOUR_REACH_MS), at).fires.at(-1)?.atMs;
    if (reach >= NEIGHBOUR_REACH_MS) break;
  }
  for (let reach = DST_REACH_MS * 10; next === undefined && reach <= NEIGHBOUR_REACH_MS * 10; reach *= 10) {
    next = walk(schedule, at + 1, at + Math.min(reach, NEIGHBOUR_REACH_MS)).fires[0]?.atMs;
    if (reach >= NEIGHBOUR_REACH_MS) break;
  }
  return { kind: 'none', ...(previous !== undefined ? { previous } : {}), ...(next !== undefined ? { next } : {}) };
}

const sorted = (entries: readonly AuditEntry[]): AuditEntry[] =>
  [...entries].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

const entryView = (entry: AuditEntry) => ({ at: entry.at, actor: entry.actor, action: entry.action });

/** The spec version in force in a segment: the create/update/apply that set it, numbered from 1. */
function specVersion(entries: readonly AuditEntry[], segment: SpecSegment) {
  const writes = sorted(entries).filter(
    (e) => (e.action === 'create' || e.action === 'update' || e.action === 'apply') && Date.parse(e.at) <= segment.from,
  );
  const entry = writes.at(-1);
  return {
    version: writes.length,
    ...(entry ? { setBy: entryView(entry) } : {}),
    schedule: segment.spec?.schedule,
    overlap: segment.spec?.overlap,
  };
}

/** The audit entry that paused the task for the segment (a pause, or a create/update with `paused`). */
function pauseEntry(entries: readonly AuditEntry[], segment: SpecSegment) {
  const all = sorted(entries);
  const entry = all.filter((e) => Date.parse(e.at) <= segment.from).at(-1);
  const resume = all.find((e) => Date.parse(e.at) >= segment.to && e.action === 'resume');
  const after = entry?.after as { note?: string } | undefined;
  return {
    ...(entry ? { by: entry.actor, at: entry.at, action: entry.action } : {}),
    ...(after?.note !== undefined ? { note: after.note } : {}),
    ...(resume ? { resumedAt: resume.at, resumedBy: resume.actor } : {}),
  };
}

const runView = (run: RunEvidence) => ({
  workflowId: run.workflowId,
  runId: run.runId,
  nominalTime: run.nominalTime,
  trigger: run.trigger,
  status: run.status,
  startedAt: run.startedAt,
  ...(run.closedAt ? { closedAt: run.closedAt } : {}),
  ...(run.pickedUpAt ? { pickedUpAt: run.pickedUpAt } : {}),
  ...(run.pickedUpBy ? { pickedUpBy: run.pickedUpBy } : {}),
  attempts: run.attempts,
  ...(run.error ? { error: run.error } : {}),
});

/** Not taken by a worker by `at` (or, for `at` = now, not yet at all). */
const waitingAt = (run: { pickedUpAt?: string }, at: number): boolean =>
  run.pickedUpAt === undefined || Date.parse(run.pickedUpAt) > at;

/** The watchdog's view of `at`: the round in force then, and whether a worker had taken it by then. */
function watchdogView(rounds: readonly WatchdogRound[], at: number) {
  const inForce = rounds.filter((round) => Date.parse(round.startedAt) <= at).at(-1);
  return {
    rounds,
    ...(inForce ? { roundInForce: inForce.workflowId, roundWaitingForWorker: waitingAt(inForce, at) } : {}),
  };
}

function catchupWindowMs(spec: TaskSpec): number {
  return parseDuration(spec.catchupWindow ?? taskDefaults.catchupWindow) ?? HOUR;
}

/** The first audit pause after `from` and before `until`. */
const pauseBetween = (entries: readonly AuditEntry[], from: number, until: number): AuditEntry | undefined =>
  sorted(entries).find((e) => e.action === 'pause' && Date.parse(e.at) > from && Date.parse(e.at) < until);

/** Why a fire time with no run of its own has none. */
function explainNoRun(facts: ExplainFacts, segment: SpecSegment, spec: TaskSpec): Explanation {
  const { at, now, entries, schedule } = facts;
  const walk = facts.walk ?? scheduleFires;
  if (segment.paused) {
    const pause = pauseEntry(entries, segment);
    return {
      verdict: 'paused',
      summary: `the task was paused${pause.by ? ` by ${pause.by} at ${pause.at}` : ''}${pause.note ? ` ("${pause.note}")` : ''}`,
      evidence: { pause },
    };
  }
  if (at > now) {
    return { verdict: 'pending', summary: 'the fire time is still to come', evidence: { dueInMs: at - now } };
  }
  // Drift is judged from the schedule as the server holds it now, so only for fires under the latest spec.
  const latest = segment.to >= now;
  const lastWrite = ms(schedule.lastWrittenAt);
  if (latest && !schedule.exists && !facts.runStarts.after) {
    const lastRun = facts.runStarts.before;
    return {
      verdict: 'schedule_drift',
      summary: `the schedule was deleted outside surecron${lastRun ? ` after its run at ${lastRun.startedAt}` : ''} (the audit trail has no delete)`,
      evidence: {
        reason: 'deleted',
        how: 'the schedule is gone, the audit trail has no delete, and no run of the task started after the fire',
        lastAudited: sorted(entries).map(entryView).at(-1),
        ...(lastRun ? { lastRunBefore: lastRun } : {}),
      },
    };
  }
  if (latest && lastWrite !== undefined && lastWrite <= at) {
    if (schedule.specChanged) {
      return {
        verdict: 'schedule_drift',
        summary: `the schedule's spec was changed outside surecron at ${schedule.lastWrittenAt}`,
        evidence: { reason: 'changed', changedAt: schedule.lastWrittenAt, expected: spec.schedule },
      };
    }
    if (schedule.paused) {
      return {
        verdict: 'schedule_drift',
        summary: `the schedule was paused outside surecron at ${schedule.lastWrittenAt}`,
        evidence: { reason: 'paused', pausedAt: schedule.lastWrittenAt, note: schedule.note },
      };
    }
  }
  const blocking = [...facts.going].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt)).at(-1);
  if (blocking && spec.overlap !== 'allow_all') {
    if (waitingAt(blocking, at)) {
      return {
        verdict: 'no_worker',
        summary: `no worker had taken run ${blocking.workflowId} (started ${blocking.startedAt}), which held the fire back under overlap ${spec.overlap}`,
        evidence: {
          run: runView(blocking),
          overlap: spec.overlap,
          watchdog: watchdogView(facts.watchdog, at),
        },
      };
    }
    const buffered = spec.overlap === 'buffer_all' || spec.overlap === 'buffer_one';
    const until = ms(blocking.closedAt) ?? now;
    const firstBehind =
      walk(spec.schedule, Date.parse(blocking.startedAt), at).fires.filter(
        (f) => f.atMs > Date.parse(blocking.nominalTime),
      ).length === 0;
    const pause = buffered ? pauseBetween(entries, at, until) : undefined;
    if (pause && (spec.overlap === 'buffer_all' || firstBehind)) {
      const after = pause.after as { note?: string } | undefined;
      return {
        verdict: 'dropped_by_pause',
        summary: `buffered behind run ${blocking.workflowId} under overlap ${spec.overlap}, then dropped when ${pause.actor} paused the task at ${pause.at}`,
        evidence: {
          overlap: spec.overlap,
          bufferedBehind: runView(blocking),
          pause: { by: pause.actor, at: pause.at, ...(after?.note !== undefined ? { note: after.note } : {}) },
        },
      };
    }
    if (spec.overlap === 'skip' || (spec.overlap === 'buffer_one' && !firstBehind)) {
      return {
        verdict: 'skipped_overlap',
        summary: `run ${blocking.workflowId} was still going, and overlap ${spec.overlap} drops such fires`,
        evidence: { overlap: spec.overlap, stillGoing: runView(blocking) },
      };
    }
    if (buffered && blocking.closedAt === undefined) {
      return {
        verdict: 'pending',
        summary: `buffered behind run ${blocking.workflowId}, which is still going (overlap ${spec.overlap})`,
        evidence: { overlap: spec.overlap, bufferedBehind: runView(blocking) },
      };
    }
  }
  if (at > now - PENDING_GRACE_MS) {
    return {
      verdict: 'pending',
      summary: 'due a moment ago; the scheduler starts runs a little late',
      evidence: { dueAgoMs: now - at, graceMs: PENDING_GRACE_MS },
    };
  }
  // An outage: no scheduled start between the last one at or before the fire and the first after it, and that
  // first one late (the scheduler catching up) and too late for the fire to have been inside the window.
  const { before, after } = facts.starts;
  const windowMs = catchupWindowMs(spec);
  if (after) {
    const resumedAt = Date.parse(after.startedAt);
    const lateMs = resumedAt - Date.parse(after.scheduledAt);
    const counted = (schedule.missedCatchupWindow ?? 0) > 0;
    if (resumedAt - at >= windowMs - SCHEDULER_SLACK_MS && lateMs > LATE_START_MS) {
      return {
        verdict: 'outside_catchup_window',
        summary: `the scheduler was not starting runs from ${before?.startedAt ?? 'before the fire'} to ${after.startedAt}; when it came back the fire was ${Math.round((resumedAt - at) / SECOND)} s old, beyond the catch-up window of ${windowMs / SECOND} s`,
        evidence: {
          outage: { from: before?.startedAt, to: after.startedAt },
          how:
            'from: the last scheduled start (a run of the task or a watchdog round) at or before the fire; to: the ' +
            'first one after it' +
            (lateMs > LATE_START_MS
              ? `, itself ${Math.round(lateMs / SECOND)} s late: the scheduler catching up`
              : '') +
            (counted
              ? `; the schedule counts ${schedule.missedCatchupWindow} fire(s) missed for the catch-up window`
              : ''),
          lastStartBefore: before,
          firstStartAfter: after,
          catchupWindowMs: windowMs,
          ageAtResumeMs: resumedAt - at,
          missedCatchupWindow: schedule.missedCatchupWindow,
        },
      };
    }
  }
  return {
    verdict: 'missed',
    summary: 'no run, and none of pause, overlap, outage, drift or a missing worker accounts for it',
    evidence: {
      paused: false,
      runGoing: blocking ? runView(blocking) : null,
      schedule,
      lastStartBefore: before,
      firstStartAfter: after,
      catchupWindowMs: windowMs,
    },
  };
}

/** Why a fire time had the run(s) it had. */
function explainRuns(facts: ExplainFacts, attempts: readonly Attempt[] | undefined): Explanation {
  const { at, now } = facts;
  const runs = [...facts.runs].sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt));
  if (runs.length > 1) {
    return {
      verdict: 'duplicate',
      summary: `${runs.length} runs share the nominal time ${iso(at)}`,
      evidence: { runs: runs.map(runView) },
    };
  }
  const run = runs[0] as RunEvidence;
  const startLatenessMs = Date.parse(run.startedAt) - at;
  const pickup = run.pickedUpAt ? { pickupLatenessMs: Date.parse(run.pickedUpAt) - at } : {};
  if (run.status === 'running') {
    if (run.pickedUpAt === undefined && now - Date.parse(run.startedAt) > PENDING_GRACE_MS) {
      return {
        verdict: 'no_worker',
        summary: `run ${run.workflowId} was started at ${run.startedAt} and no worker has taken it since`,
        evidence: {
          run: runView(run),
          waitingMs: now - Date.parse(run.startedAt),
          watchdog: watchdogView(facts.watchdog, now),
        },
      };
    }
    const holding = run.groups?.find((hold) => !hold.grantedAt);
    const refused = run.circuit?.find((hold) => !hold.resumedAt);
    return {
      verdict: 'running',
      summary: holding
        ? `run ${run.workflowId} is waiting for a permit of ${holding.kind} group ${holding.group}, asked ${holding.requestedAt} (${seconds(now - Date.parse(holding.requestedAt))} s ago): late, not missed`
        : refused
          ? `run ${run.workflowId} is waiting for the circuit breaker to ${refused.key}: an attempt was turned away at ${refused.refusedAt}, the next is due at ${refused.retryAt}: late, not missed`
          : `run ${run.workflowId} is running (attempt ${Math.max(run.attempts, attempts?.length ?? 0, 1)})`,
      evidence: {
        run: runView(run),
        startLatenessMs,
        ...pickup,
        ...groupEvidence(run, now),
        ...(run.circuit ? { circuit: run.circuit } : {}),
        ...(attempts ? { attempts } : {}),
      },
    };
  }
  const waits = groupEvidence(run, now).groups?.filter((hold) => hold.waitedMs > 0) ?? [];
  const waited = waits.map(
    (hold) => `, after ${seconds(hold.waitedMs)} s waiting for ${hold.kind} group ${hold.group}`,
  );
  const heldMs = (run.circuit ?? []).reduce(
    (sum, hold) => sum + Date.parse(hold.resumedAt ?? hold.retryAt) - Date.parse(hold.refusedAt),
    0,
  );
  if (run.circuit?.length) {
    waited.push(`, with ${seconds(heldMs)} s waiting for the circuit breaker to ${run.circuit[0]?.key}`);
  }
  return {
    verdict: 'ran',
    summary: `run ${run.workflowId} ${run.status} after ${run.attempts} attempt(s), started ${seconds(startLatenessMs)} s after its nominal time${waited.join('')}`,
    evidence: {
      run: runView(run),
      outcome: run.status,
      startLatenessMs,
      ...pickup,
      ...groupEvidence(run, now),
      ...(run.circuit ? { circuit: run.circuit } : {}),
      ...(attempts ? { attempts } : {}),
    },
  };
}

const seconds = (ms: number): string => (ms / SECOND).toFixed(3);

/** Each group the run asked: which held it, and for how long (until now, while it still waits). */
function groupEvidence(run: RunEvidence, now: number) {
  if (!run.groups) return {};
  return {
    groups: run.groups.map((hold) => ({
      ...hold,
      waitedMs: (hold.grantedAt ? Date.parse(hold.grantedAt) : now) - Date.parse(hold.requestedAt),
    })),
  };
}

/** A fire a DST policy decided (shifted, the first of a repeat) carries its event in the evidence. */
const withDst = (explained: Explanation, fire: Fire): Explanation =>
  fire.dst ? { ...explained, evidence: { ...explained.evidence, dst: fire.dst } } : explained;

/** `dst_policy`: a fire the DST policy dropped; with `run`, the run the server started for it and `runTask` ended. */
function dstVerdict(
  event: DstEvent | undefined,
  facts: ExplainFacts,
  segment: SpecSegment,
  spec: TaskSpec,
  run?: RunEvidence,
): Explanation {
  const zone = scheduleTimezone(spec.schedule);
  const copy = event?.applied === 'once' ? 'the second copy of the repeated' : 'the skipped';
  const what = event
    ? `${copy} wall time ${event.wall} (${zone}), as the DST policy says`
    : `a nominal time in ${zone} the DST policy leaves out`;
  return {
    verdict: 'dst_policy',
    summary: run ? `run ${run.workflowId} ended at once without running the handler: ${what}` : what,
    evidence: {
      ...(event ? { event } : {}),
      policy: dstPolicyOf(spec.schedule),
      timezone: zone,
      specVersion: specVersion(facts.entries, segment),
      ...(run
        ? {
            run: runView(run),
            how: "the server fired at this nominal time; it lies in the DST skips of the run's input, so the run ended at once",
          }
        : {}),
    },
  };
}

/** A run the server started at a nominal time in the task's DST skips, which `runTask` ended at once. */
function explainDstSkipped(facts: ExplainFacts, run: RunEvidence, segment: SpecSegment, spec: TaskSpec): Explanation {
  const walk = facts.walk ?? scheduleFires;
  const { dstEvents } = walk(spec.schedule, facts.at - DST_REACH_MS, facts.at + DST_REACH_MS + 1);
  const zone = scheduleTimezone(spec.schedule);
  const distance = (event: DstEvent) => Math.abs(Date.parse(event.at) - facts.at);
  // The event whose dropped fire this is; else the nearest, whose correction the skip was.
  const event =
    dstEvents.find((e) => droppedInstants(e, zone).includes(facts.at)) ??
    [...dstEvents].sort((a, b) => distance(a) - distance(b))[0];
  return dstVerdict(event, facts, segment, spec, run);
}

/**
 * The verdict on one instant of a task from the gathered facts: its run(s) if it has any (`dst_policy` for one that
 * ended as a DST skip); else whether it was a fire time of the spec then in force (or one a DST policy dropped);
 * else why the fire has no run.
 */
export function explainInstant(facts: ExplainFacts, attempts?: readonly Attempt[]): Explanation {
  const { at, now, entries } = facts;
  const segments = specTimeline(entries, Math.max(now, at) + 1);
  const segment = segments.find((s) => s.from < at && at <= s.to);
  const [only] = facts.runs;
  if (facts.runs.length === 1 && only?.status === 'dst_skipped' && segment?.spec) {
    return explainDstSkipped(facts, only, segment, segment.spec);
  }
  if (facts.runs.length > 0) {
    const explained = explainRuns(facts, attempts);
    const kind = segment?.spec ? classifyInstant(segment.spec.schedule, at, facts.walk) : undefined;
    return kind?.kind === 'fire' ? withDst(explained, kind.fire) : explained;
  }
  if (!segment?.spec) {
    const first = sorted(entries)[0];
    return {
      verdict: 'not_a_fire_time',
      summary: 'the task did not exist then',
      evidence: {
        existed: false,
        ...(first ? { firstAudited: entryView(first) } : {}),
        lastAudited: sorted(entries)
          .filter((e) => Date.parse(e.at) < at)
          .map(entryView)
          .at(-1),
      },
    };
  }
  const spec = segment.spec;
  const kind = classifyInstant(spec.schedule, at, facts.walk);
  if (kind.kind === 'dst') return dstVerdict(kind.event, facts, segment, spec);
  if (kind.kind === 'none') {
    return {
      verdict: 'not_a_fire_time',
      summary: `not a fire time of the spec then in force; the nearest are ${kind.previous !== undefined ? iso(kind.previous) : 'none'} and ${kind.next !== undefined ? iso(kind.next) : 'none'}`,
      evidence: {
        ...(kind.previous !== undefined ? { previous: iso(kind.previous) } : {}),
        ...(kind.next !== undefined ? { next: iso(kind.next) } : {}),
        specVersion: specVersion(entries, segment),
      },
    };
  }
  return withDst(explainNoRun(facts, segment, spec), kind.fire);
}

/**
 * From an execution's history: when a worker first took its workflow task, and which; and, for a run in groups,
 * each permit its groups granted it: when the group got its request, and when it granted it; and each attempt an
 * open circuit breaker turned away.
 */
async function pickup(client: Client, workflowId: string, runId: string) {
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
    maximumPageSize: 200,
  });
  const events = history.history?.events ?? [];
  const { payloadConverter } = client.options.loadedDataConverter;
  const groups: GroupHold[] = [];
  const circuit: CircuitHold[] = [];
  for (const event of events) {
    const waiting = circuit.at(-1);
    if (waiting && !waiting.resumedAt && event.activityTaskScheduledEventAttributes) {
      waiting.resumedAt = eventTime(event);
    }
    const [result] = event.activityTaskCompletedEventAttributes?.result?.payloads ?? [];
    const refused = result && payloadConverter.fromPayload<{ circuitOpen?: unknown }>(result).circuitOpen;
    if (refused) {
      const { key, retryAt } = refused as { key: string; retryAt: string };
      circuit.push({ key, refusedAt: eventTime(event), retryAt });
    }
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName !== PERMIT_GRANTED_SIGNAL) continue;
    const [payload] = signal.input?.payloads ?? [];
    const { group, kind, askedAt } = payloadConverter.fromPayload<PermitGrant>(payload as never);
    // A grant sent again (the run asked again after a retry) is the same permit.
    if (groups.some((hold) => hold.group === group && hold.kind === kind)) continue;
    groups.push({ group, kind, requestedAt: askedAt, grantedAt: eventTime(event) });
  }
  const event = events.find((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
  const identity = event?.workflowTaskStartedEventAttributes?.identity;
  return {
    ...(event?.eventTime ? { pickedUpAt: eventTime(event) } : {}),
    ...(event?.eventTime && identity ? { pickedUpBy: identity } : {}),
    ...(groups.length ? { groups } : {}),
    ...(circuit.length ? { circuit } : {}),
  };
}

async function withPickup(client: Client, run: Run, waiting: ReadonlyMap<string, GroupHold[]>): Promise<RunEvidence> {
  const seen = await pickup(client, run.workflowId, run.runId);
  const holds = [...(seen.groups ?? []), ...(waiting.get(run.workflowId) ?? [])];
  return { ...run, ...seen, ...(holds.length ? { groups: holds } : {}) };
}

/**
 * The runs waiting for a permit right now, by workflow id, as their groups hold them. Their workflows answer the
 * query through a worker: without one, nothing is known to wait (explain then says `running`, or `no_worker`).
 */
async function waitingInGroups(client: Client, taskQueue: string): Promise<Map<string, GroupHold[]>> {
  const groups = await listGroups(client, taskQueue).catch(() => []);
  const waiting = new Map<string, GroupHold[]>();
  for (const { group, kind, waitingRuns } of groups) {
    for (const run of waitingRuns) {
      const hold = { group, kind, requestedAt: new Date(run.askedAt).toISOString() };
      waiting.set(run.workflowId, [...(waiting.get(run.workflowId) ?? []), hold]);
    }
  }
  return waiting;
}

/**
 * The latest execution matching `query` started at or before `at`, or the earliest started after it, looked for
 * in windows growing tenfold from a minute to about three years.
 */
async function nearestStart(
  client: Client,
  query: string,
  at: number,
  side: 'before' | 'after',
): Promise<WorkflowExecutionInfo | undefined> {
  for (let reach = 60_000; reach <= 1100 * DAY; reach *= 10) {
    const window =
      side === 'before'
        ? `StartTime <= ${quote(new Date(at).toISOString())} AND StartTime > ${quote(new Date(at - reach).toISOString())}`
        : `StartTime > ${quote(new Date(at).toISOString())} AND StartTime <= ${quote(new Date(at + reach).toISOString())}`;
    const { executions } = await listExecutions(client, `${query} AND ${window}`, { pageSize: 1000 });
    if (executions.length === 0) continue;
    const byStart = executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    return side === 'before' ? byStart.at(-1) : byStart[0];
  }
  return undefined;
}

function scheduledStart(execution: WorkflowExecutionInfo): ScheduledStart {
  const attributes = execution.typedSearchAttributes;
  const due =
    attributes.get(searchAttributeKeys.scheduledStartTime) ??
    attributes.get(searchAttributeKeys.nominalTime) ??
    execution.startTime;
  return {
    workflowId: execution.workflowId,
    scheduledAt: due.toISOString(),
    startedAt: execution.startTime.toISOString(),
  };
}

/** The nearest of two starts on one side of `at`. */
function nearest(a: ScheduledStart | undefined, b: ScheduledStart | undefined, side: 'before' | 'after') {
  if (!a || !b) return a ?? b;
  const later = Date.parse(a.startedAt) > Date.parse(b.startedAt) ? a : b;
  const earlier = later === a ? b : a;
  return side === 'before' ? later : earlier;
}

export interface ExplainOptions {
  now?: Date;
  /** Whether the schedule's spec is still the translation of the task's (the watchdog's `specChanged`). */
  specChanged?: (current: ScheduleSpecDescription, spec: TaskSpec) => boolean;
}

/** Gathers the facts about one instant of a task from Temporal. */
async function gatherFacts(
  client: Client,
  store: TaskStore,
  taskId: string,
  at: number,
  options: ExplainOptions,
): Promise<ExplainFacts> {
  const now = (options.now ?? new Date()).getTime();
  const entries = await allPages((pageToken) => listAudit(client, { taskId, pageToken, pageSize: 1000 }));
  const stored = await store.get(taskId).catch((error: unknown) => {
    if (error instanceof TaskNotFoundError) return undefined;
    throw error;
  });
  if (!stored && entries.length === 0) throw new TaskNotFoundError(taskId);

  const runs = await allPages((pageToken) =>
    listRuns(client, taskId, { from: new Date(at), to: new Date(at + 1), pageToken, pageSize: 100 }),
  );
  const activeAt = await allPages((pageToken) =>
    listRuns(client, taskId, {
      activeIn: { from: new Date(at), to: new Date(at + 1) },
      includeErrors: false,
      pageToken,
      pageSize: 100,
    }),
  );
  const going = activeAt.filter(
    (run) =>
      Date.parse(run.nominalTime) !== at &&
      Date.parse(run.startedAt) <= at &&
      (run.closedAt === undefined || Date.parse(run.closedAt) > at),
  );
  const latestGoing = going.sort((a, b) => Date.parse(a.startedAt) - Date.parse(b.startedAt)).at(-1);
  const waiting =
    latestGoing || runs.some((run) => run.status === 'running')
      ? await waitingInGroups(client, store.taskQueue)
      : new Map<string, GroupHold[]>();

  const runQuery = runsQuery(taskId);
  const watchdogQuery =
    `WorkflowType = '${workflowTypes.watchdog}' AND TaskQueue = ${quote(store.taskQueue)} AND ` +
    `WorkflowId STARTS_WITH ${quote(`${WATCHDOG_SCHEDULE_ID}-`)}`;
  const [runBefore, runAfter, roundBefore, roundAfter] = await Promise.all([
    nearestStart(client, runQuery, at, 'before'),
    nearestStart(client, runQuery, at, 'after'),
    nearestStart(client, watchdogQuery, at, 'before'),
    nearestStart(client, watchdogQuery, at, 'after'),
  ]);
  const watchdog = await Promise.all(
    [roundBefore, roundAfter].flatMap((round) =>
      round
        ? [
            pickup(client, round.workflowId, round.runId).then((seen): WatchdogRound => ({
              workflowId: round.workflowId,
              startedAt: round.startTime.toISOString(),
              ...seen,
            })),
          ]
        : [],
    ),
  );

  let schedule: ScheduleState = { exists: false };
  if (stored) {
    const { state, info, spec } = stored.description;
    schedule = {
      exists: true,
      paused: state.paused,
      ...(state.note !== undefined ? { note: state.note } : {}),
      lastWrittenAt: (info.lastUpdatedAt ?? info.createdAt).toISOString(),
      ...(options.specChanged ? { specChanged: options.specChanged(spec, stored.spec) } : {}),
      missedCatchupWindow: info.numActionsMissedCatchupWindow,
    };
  }
  const starts = (execution: WorkflowExecutionInfo | undefined) => (execution ? scheduledStart(execution) : undefined);
  return {
    taskId,
    at,
    now,
    entries,
    runs: await Promise.all(runs.map((run) => withPickup(client, run, waiting))),
    going: latestGoing ? [await withPickup(client, latestGoing, waiting)] : [],
    runStarts: { before: starts(runBefore), after: starts(runAfter) },
    schedule,
    starts: {
      before: nearest(starts(runBefore), starts(roundBefore), 'before'),
      after: nearest(starts(runAfter), starts(roundAfter), 'after'),
    },
    watchdog,
  };
}

async function explainGathered(client: Client, facts: ExplainFacts): Promise<Explanation> {
  // One run: its attempts from its history.
  const [only] = facts.runs;
  const attempts =
    facts.runs.length === 1 && only
      ? await runDetail(client, only.workflowId).then(
          (detail) => detail.attemptsDetail,
          (error: unknown) => {
            if (error instanceof RunNotFoundError) return undefined;
            throw error;
          },
        )
      : undefined;
  return explainInstant(facts, attempts);
}

/**
 * Why a task did (or did not) run at an instant: the verdict and its evidence, from the audit trail (specs,
 * pauses), visibility and histories (runs, their pickup, the watchdog's rounds) and the schedule as the server
 * holds it. For an instant that is no fire time, the fire times either side of it are explained too.
 * @throws {TaskNotFoundError} when the task neither exists nor ever did.
 */
export async function explainTask(
  client: Client,
  store: TaskStore,
  taskId: string,
  at: Date,
  options: ExplainOptions = {},
): Promise<ExplainResult> {
  const now = options.now ?? new Date();
  const facts = await gatherFacts(client, store, taskId, at.getTime(), { ...options, now });
  const explanation = await explainGathered(client, facts);
  const result: ExplainResult = { taskId, at: at.toISOString(), ...explanation };
  if (explanation.verdict !== 'not_a_fire_time') return { ...result, nominalTime: iso(at.getTime()) };
  const { previous, next } = explanation.evidence as { previous?: string; next?: string };
  const neighbours = await Promise.all(
    [previous, next].flatMap((time) =>
      time === undefined
        ? []
        : [
            gatherFacts(client, store, taskId, Date.parse(time), { ...options, now })
              .then((f) => explainGathered(client, f))
              .then((e) => ({ nominalTime: time, ...e })),
          ],
    ),
  );
  return neighbours.length ? { ...result, neighbours } : result;
}
