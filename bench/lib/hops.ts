/** The hops of one fire (bench/fire-hops.ts), read from the run's and the scheduler's histories. */
import type { Client } from '@temporalio/client';
import { tsToMs } from '@temporalio/common/lib/time.js';
import proto from '@temporalio/proto';
import type { RunRecord } from './protocol.js';
import { percentile } from './stats.js';
import { taskId } from '../systems/surecron.js';
import { scheduleId } from '../systems/temporal.js';

export type HopSystem = 'surecron' | 'surecron-activity' | 'temporal' | 'temporal-ahead';

const EventType = proto.temporal.api.enums.v1.EventType;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

export const hopNames = ['timer', 'scheduler', 'dispatch', 'aheadTimer', 'worker', 'total'] as const;
export type HopName = (typeof hopNames)[number];

const hopLabels: Record<HopName, string> = {
  timer: 'scheduler timer',
  scheduler: 'scheduler → run started',
  dispatch: 'first workflow task dispatch',
  aheadTimer: 'fire-ahead timer late',
  worker: 'worker → handler start',
  total: 'lateness (handler start − nominal)',
};

export interface HopReport {
  system: HopSystem;
  runs: number;
  /** Per hop: p50 / p90 / p99 in ms over the sampled runs. */
  hops: Partial<Record<HopName, { p50: number | null; p90: number | null; p99: number | null }>>;
  /** Sampled runs whose scheduler timer could not be matched. */
  unmatched: number;
  /** Means per sampled run: the run's history events by kind, and the scheduler's events from its fire to the next. */
  history: HistoryCounts;
}

export interface HistoryCounts {
  runEvents: number;
  workflowTasks: number;
  activityTasks: number;
  markers: number;
  searchAttributeUpserts: number;
  timers: number;
  schedulerEventsPerFire: number;
}

/** Each system's schedule ids, as its bench system names them. */
const ids: Record<HopSystem, (i: number) => string> = {
  surecron: taskId,
  'surecron-activity': taskId,
  temporal: scheduleId,
  'temporal-ahead': scheduleId,
};

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const timeOf = (event: HistoryEvent): number => tsToMs(event.eventTime);
const first = (events: HistoryEvent[], type: proto.temporal.api.enums.v1.EventType): HistoryEvent | undefined =>
  events.find((event) => event.eventType === type);

async function events(client: Client, workflowId: string): Promise<HistoryEvent[]> {
  return (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}

/**
 * Reads the sampled runs' histories and their schedulers' and splits each lateness into hops. `leadMs` is the
 * fire-ahead lead: the schedule fired that much before the nominal time.
 */
export async function measureHops(
  client: Client,
  system: HopSystem,
  sample: readonly RunRecord[],
  leadMs: number,
): Promise<HopReport> {
  const values: Record<HopName, number[]> = {
    timer: [],
    scheduler: [],
    dispatch: [],
    aheadTimer: [],
    worker: [],
    total: [],
  };
  const schedulers = new Map<string, HistoryEvent[]>();
  let unmatched = 0;
  const counted: HistoryCounts = {
    runEvents: 0,
    workflowTasks: 0,
    activityTasks: 0,
    markers: 0,
    searchAttributeUpserts: 0,
    timers: 0,
    schedulerEventsPerFire: 0,
  };
  let schedulerFires = 0;
  for (const [i, nominal, start] of sample) {
    const scheduleId = ids[system](i);
    const scheduled = nominal - leadMs;
    let scheduler = schedulers.get(scheduleId);
    if (!scheduler) {
      scheduler = await events(client, `temporal-sys-scheduler:${scheduleId}`);
      schedulers.set(scheduleId, scheduler);
    }
    const run = await events(client, `${scheduleId}-${iso(scheduled)}`);
    const started = first(run, EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED);
    const wftScheduled = first(run, EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED);
    const wftStarted = first(run, EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED);
    const timers = scheduler.flatMap((event, index) =>
      event.eventType === EventType.EVENT_TYPE_TIMER_FIRED ? [{ at: timeOf(event), index }] : [],
    );
    const fired = timers.findIndex(({ at }) => at >= scheduled && at < scheduled + 10_000);
    const timerFired = timers[fired]?.at;
    if (!started || !wftScheduled || !wftStarted) throw new Error(`no history for ${scheduleId} at ${iso(scheduled)}`);
    const count = (type: proto.temporal.api.enums.v1.EventType): number =>
      run.filter((event) => event.eventType === type).length;
    counted.runEvents += run.length;
    counted.workflowTasks += count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    counted.activityTasks += count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED);
    counted.markers += count(EventType.EVENT_TYPE_MARKER_RECORDED);
    counted.searchAttributeUpserts += count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
    counted.timers += count(EventType.EVENT_TYPE_TIMER_STARTED);
    const [thisFire, nextFire] = [timers[fired], timers[fired + 1]];
    if (fired >= 0 && thisFire && nextFire) {
      counted.schedulerEventsPerFire += nextFire.index - thisFire.index;
      schedulerFires += 1;
    }
    values.total.push(start - nominal);
    values.dispatch.push(timeOf(wftStarted) - timeOf(wftScheduled));
    if (timerFired === undefined) unmatched += 1;
    else {
      values.timer.push(timerFired - scheduled);
      values.scheduler.push(timeOf(started) - timerFired);
    }
    const aheadFired = leadMs ? first(run, EventType.EVENT_TYPE_TIMER_FIRED) : undefined;
    if (aheadFired) {
      values.aheadTimer.push(timeOf(aheadFired) - nominal);
      values.worker.push(start - timeOf(aheadFired));
    } else values.worker.push(start - timeOf(wftStarted));
  }
  const hops: HopReport['hops'] = {};
  for (const name of hopNames) {
    const sorted = values[name].sort((a, b) => a - b);
    if (sorted.length)
      hops[name] = { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99) };
  }
  const mean = (total: number, n: number): number => (n ? Math.round((total / n) * 10) / 10 : 0);
  const history: HistoryCounts = { ...counted };
  for (const key of Object.keys(history) as (keyof HistoryCounts)[])
    history[key] = mean(counted[key], key === 'schedulerEventsPerFire' ? schedulerFires : sample.length);
  return { system, runs: sample.length, hops, unmatched, history };
}

export const systemLabels: Record<HopSystem, string> = {
  surecron: 'surecron (local activity)',
  'surecron-activity': 'surecron (activity task)',
  temporal: 'bare Temporal',
  'temporal-ahead': 'bare Temporal, fire-ahead',
};

/** One row per hop, one column per system: `p50 / p90` ms. */
export function hopTable(reports: readonly HopReport[]): string {
  const header = ['hop (ms, p50 / p90)', ...reports.map((r) => `${systemLabels[r.system]} (${r.runs} runs)`)];
  const lines = [`| ${header.join(' | ')} |`, `| --- |${reports.map(() => ' ---: |').join('')}`];
  for (const name of hopNames) {
    if (!reports.some((r) => r.hops[name])) continue;
    const cells = reports.map((r) => {
      const hop = r.hops[name];
      return hop ? `${hop.p50} / ${hop.p90}` : '—';
    });
    lines.push(`| ${hopLabels[name]} | ${cells.join(' | ')} |`);
  }
  return lines.join('\n');
}
