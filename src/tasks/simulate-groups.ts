import { fireRuns } from './fire-runs.js';
import type { ScheduleDef } from './spec.js';

/** A task of a rate group, as the simulator sees it. */
export interface RateGroupTask {
  id: string;
  schedule: ScheduleDef;
  paused?: boolean;
  remainingRuns?: number;
  rateLimit?: { group: string; perSecond: number };
}

/** What a rate group does to its tasks' fires in the window: how long they wait for their turn. */
export interface RateGroupReport {
  group: string;
  perSecond: number;
  taskIds: string[];
  /** Fires simulated (all in the window, unless `simulatedUntil` says where it stopped). */
  fires: number;
  /** The group's fires per second over the window: above `perSecond`, its queue grows without end. */
  demandPerSecond: number;
  /** Fires that start later than their nominal time because the group's rate holds them back. */
  delayedFires: number;
  /** The longest wait, and the nominal time of the fire that waited it. */
  maxDelayMs: number;
  worstAt?: string;
  /** Set when the group has more fires than are simulated (`MAX_GROUP_FIRES`): where the simulation stopped. */
  simulatedUntil?: string;
}

/** Fires simulated per group at most; a denser group is simulated up to that many. */
export const MAX_GROUP_FIRES = 1_000_000;

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The first `limit` fires of `tasks` together in `[fromMs, toMs)`, in time order (each task's first `limit` suffice). */
function mergedFires(tasks: readonly RateGroupTask[], fromMs: number, toMs: number, limit: number): Float64Array {
  const each = tasks.map((task) => fireRuns(task.schedule, fromMs, toMs, Math.min(task.remainingRuns ?? limit, limit)));
  const all = new Float64Array(each.reduce((sum, runs) => sum + runs.fires, 0));
  let length = 0;
  for (const { runs } of each) {
    for (const { start, delta, count } of runs) for (let k = 0; k < count; k += 1) all[length++] = start + k * delta;
  }
  return all.sort().subarray(0, limit);
}

/**
 * Each rate group's queue over the window, as the group grants it: one start every `1000 / perSecond` ms, fires in
 * nominal order (ties: any order, they wait alike). A fire's start is the later of its nominal time and the
 * previous start plus the interval.
 */
export function simulateRateGroups(tasks: readonly RateGroupTask[], fromMs: number, toMs: number): RateGroupReport[] {
  const groups = new Map<string, RateGroupTask[]>();
  for (const task of tasks) {
    if (!task.rateLimit || task.paused) continue;
    groups.set(task.rateLimit.group, [...(groups.get(task.rateLimit.group) ?? []), task]);
  }
  return [...groups].map(([group, members]) => {
    // The most recent declaration wins in a live group; here, the strictest of the declared rates.
    const perSecond = Math.min(...members.map((task) => task.rateLimit?.perSecond ?? Infinity));
    const interval = 1000 / perSecond;
    // One fire more than simulated says whether the window holds more.
    const fires = mergedFires(members, fromMs, toMs, MAX_GROUP_FIRES + 1);
    const capped = fires.length > MAX_GROUP_FIRES;
    const simulated = capped ? fires.subarray(0, MAX_GROUP_FIRES) : fires;
    const untilMs = capped ? (fires[MAX_GROUP_FIRES] as number) : toMs;
    let next = -Infinity;
    let delayedFires = 0;
    let maxDelayMs = 0;
    let worstAt: number | undefined;
    for (const at of simulated) {
      const start = Math.max(at, next);
      next = start + interval;
      const delay = start - at;
      if (delay > 0) delayedFires += 1;
      if (delay > maxDelayMs) {
        maxDelayMs = delay;
        worstAt = at;
      }
    }
    return {
      group,
      perSecond,
      taskIds: members.map((task) => task.id),
      fires: simulated.length,
      demandPerSecond: Number((simulated.length / ((untilMs - fromMs) / 1000)).toPrecision(4)),
      delayedFires,
      maxDelayMs: Math.round(maxDelayMs),
      ...(worstAt !== undefined ? { worstAt: iso(worstAt) } : {}),
      ...(capped ? { simulatedUntil: iso(untilMs) } : {}),
    };
  });
}
