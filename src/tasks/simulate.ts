import { formatDuration, parseDuration } from './duration.js';
import { fireRuns } from './fire-runs.js';
import { simulateRateGroups, type RateGroupReport } from './simulate-groups.js';
import type { DstEvent } from './fires.js';
import { perSecondOf, type RateLimitDef, type ScheduleDef } from './spec.js';

/**
 * Workflow starts a second the embedded dev server sustains on 2 cores: BENCHMARKS.md, run of 2026-11-30, N = 1000
 * ("the embedded dev server … sustains 33–35 runs/s"; the 2026-12-01 run measured 23.6–26.3 under heavier
 * overload). The scheduler's own limit is not the bound: `src/temporal/dev-server.ts` raises
 * `worker.schedulerNamespaceStartWorkflowRPS` to 1000.
 */
export const EMBEDDED_START_RATE = 33;
export const EMBEDDED_START_RATE_SOURCE =
  'BENCHMARKS.md (2026-11-30 run, N = 1000: the embedded dev server sustains 33–35 workflow starts/s on 2 cores)';
/** The longest window a simulation covers: 10 years (with their leap days). */
export const MAX_SIMULATION_MS = 3653 * 86_400_000;

/** A task as the simulator sees it: its schedule and whether it fires at all. */
export interface SimulationTask {
  id: string;
  schedule: ScheduleDef;
  /** A paused task fires nothing: it is listed, but adds no load. */
  paused?: boolean;
  /** Fires left before the schedule stops (`maxRuns`, or what the server says remains). */
  remainingRuns?: number;
  /** Its rate group: the simulator queues the group's fires at that rate (`rateGroups`). */
  rateLimit?: { group: string; perSecond: number };
}

/** A start rate the load is held against. */
export interface StartRate {
  name: string;
  /** Workflow starts per second. */
  startRate: number;
  source: string;
}

export interface SimulateOptions {
  fromMs: number;
  toMs: number;
  /** The rates to report on; the first is the one suggestions aim at. Default: the embedded server's. */
  rates?: readonly StartRate[];
  /** Suggest and verify a jitter per crowding task (default true). */
  suggest?: boolean;
}

/** What DST policies did to a task's fires in the window. */
export interface DstSummary {
  gap: number;
  repeat: number;
  shift: number;
  skip: number;
  once: number;
  twice: number;
}

export interface TaskSimulation {
  id: string;
  /** Nominal fires in the window. */
  fires: number;
  paused?: true;
  /** The task's own `schedule.jitter`. */
  jitter?: string;
  /** Every DST event in the window (the first 100; `dstEventCount` counts all). */
  dstEvents: DstEvent[];
  dstEventCount: number;
  /** What the policy did, counted. */
  dst: DstSummary;
  /** Fires that land (or may land, with jitter) in a crowded second of the target rate. */
  crowdedFires: number;
}

/** One of the worst seconds. */
export interface CrowdedSecond {
  at: string;
  /** Expected workflow starts in that second (jittered fires count by the share of their window in it). */
  fires: number;
  /** Tasks that fire, or may fire, in it. */
  tasks: number;
  /** The first 10 of them. */
  taskIds: string[];
}

export interface RateReport extends StartRate {
  /** Seconds whose expected starts exceed the rate. */
  crowdedSeconds: number;
}

export interface LoadSummary {
  /** The highest expected starts in one second, and the first second it happens. */
  peak: { firesPerSecond: number; at?: string };
  /** Crowded seconds at the target rate (the first of `rates`). */
  crowdedSeconds: number;
  rates: RateReport[];
}

/** A concrete change to a task's schedule that spreads its fires. */
export interface Suggestion {
  taskId: string;
  /** The `schedule.jitter` to set: each fire starts uniformly in [nominal, nominal + jitter); nominal times stay. */
  jitter: string;
  /** The jitter it has now. */
  was?: string;
  /** The whole schedule with the suggestion applied. */
  schedule: ScheduleDef;
  /** Its fires in crowded seconds before the change. */
  crowdedFires: number;
  /** The most expected starts in a crowded second it fired in. */
  worstSecond: number;
}

/** A task whose crowding no jitter can spread: it fires too often (Temporal caps jitter at the gap to the next fire). */
export interface Unresolved {
  taskId: string;
  reason: string;
}

export interface Verification extends LoadSummary {
  /** Re-simulations run (suggestions are widened for tasks still crowding, up to 4 rounds). */
  rounds: number;
  /** No second is crowded at the target rate once every suggestion is applied. */
  resolved: boolean;
  crowds: CrowdedSecond[];
}

export interface SimulationResult extends LoadSummary {
  from: string;
  to: string;
  /** The target rate: crowds and suggestions are measured against it. */
  startRate: number;
  totalFires: number;
  tasks: TaskSimulation[];
  /** The worst crowded seconds (up to 10), worst first. */
  crowds: CrowdedSecond[];
  suggestions: Suggestion[];
  unresolved: Unresolved[];
  /** The same window re-simulated with every suggestion applied; absent when nothing was crowded. */
  verification?: Verification;
  /** Each rate group's queue: how long its fires wait for their turn (concurrency groups depend on run times). */
  rateGroups?: RateGroupReport[];
}

const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const EPSILON = 1e-9;
const CHUNK_SECONDS = 1 << 22; // 48.5 days: two Float64Arrays of 32 MB
/** In `flags`: a crowded second that is one of the top ones. */
const TOP_FLAG = 2;
/** Without jitter a chunk is landed and blamed this many seconds at a time, all tasks each time: 512 KB stay cached. */
const TILE_SECONDS = 1 << 16;
const TOP = 10;
const MAX_ROUNDS = 4;
const MAX_DST_EVENTS = 100;

/** A growable Float64Array. */
class Float64List {
  data = new Float64Array(1024);
  length = 0;
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
}

/**
 * Every task's nominal fires, run-length encoded (`fireRuns`): runs of fires `start + k·delta`, `k < count`. Most
 * schedules are a handful of runs a year (a UTC cron is one).
 */
interface FireRuns {
  start: Float64List;
  delta: Float64List;
  count: Float64List;
  /** Per task: its runs are [begin[i], end[i]). */
  begin: Int32Array;
  end: Int32Array;
  /** Per task: the shortest gap between two consecutive fires (Infinity with fewer than two). */
  minGap: Float64Array;
}

function collectFires(tasks: readonly SimulationTask[], fromMs: number, toMs: number) {
  const runs: FireRuns = {
    start: new Float64List(),
    delta: new Float64List(),
    count: new Float64List(),
    begin: new Int32Array(tasks.length),
    end: new Int32Array(tasks.length),
    minGap: new Float64Array(tasks.length).fill(Infinity),
  };
  const views: TaskSimulation[] = [];
  let totalFires = 0;
  tasks.forEach((task, i) => {
    runs.begin[i] = runs.start.length;
    const dst: DstSummary = { gap: 0, repeat: 0, shift: 0, skip: 0, once: 0, twice: 0 };
    const taskRuns = fireRuns(task.schedule, fromMs, toMs, task.remainingRuns);
    for (const event of taskRuns.dstEvents) {
      dst[event.change] += 1;
      dst[event.applied] += 1;
    }
    let minGap = Infinity;
    let last = -Infinity;
    for (const { start, delta, count } of taskRuns.runs) {
      minGap = Math.min(minGap, start - last, count > 1 ? delta : Infinity);
      last = start + (count - 1) * delta;
      runs.start.push(start);
      runs.delta.push(delta);
      runs.count.push(count);
    }
    runs.minGap[i] = minGap;
    runs.end[i] = runs.start.length;
    totalFires += taskRuns.fires;
    views.push({
      id: task.id,
      fires: taskRuns.fires,
      ...(task.paused ? { paused: true as const } : {}),
      ...(task.schedule.jitter ? { jitter: task.schedule.jitter } : {}),
      dstEvents: taskRuns.dstEvents.slice(0, MAX_DST_EVENTS),
      dstEventCount: taskRuns.dstEvents.length,
      dst,
      crowdedFires: 0,
    });
  });
  return { runs, views, totalFires };
}

interface PassResult extends LoadSummary {
  crowds: CrowdedSecond[];
  /** Per task: fires in crowded seconds, and the most expected starts among those seconds. */
  crowdedFires: Float64Array;
  worst: Float64Array;
}

/**
 * Turns a chunk's landed fires and spread densities into the load of each second (in `direct`), clears `flags`,
 * and lists in `hot` the seconds above `lowest`.
 */
function scanChunk(
  direct: Float64Array,
  diff: Float64Array,
  length: number,
  carried: number,
  lowest: number,
  flags: Uint8Array,
  hot: Int32Array,
): { running: number; peak: number; peakIndex: number; hot: number } {
  let running = carried;
  let peak = 0;
  let peakIndex = 0;
  let count = 0;
  const threshold = lowest + EPSILON;
  flags.fill(0);
  if (diff.length > 0) {
    for (let p = 0; p < length; p++) {
      running += diff[p] as number;
      const load = (direct[p] as number) + running;
      direct[p] = load;
      if (load > peak) {
        peak = load;
        peakIndex = p;
      }
      if (load > threshold) hot[count++] = p;
    }
  } else {
    for (let p = 0; p < length; p++) {
      const load = direct[p] as number;
      if (load > peak) {
        peak = load;
        peakIndex = p;
      }
      if (load > threshold) hot[count++] = p;
    }
  }
  return { running, peak, peakIndex, hot: count };
}

/** How many of `left` fires `at + j·delta` come before `untilMs`. */
function firesBefore(at: number, delta: number, left: number, untilMs: number): number {
  if (at >= untilMs) return 0;
  return delta === 0 ? left : Math.min(left, Math.ceil((untilMs - at) / delta));
}

/** Lands every fire of a chunk before `untilMs` in `direct` (or spreads it through `diff`), advancing each task's cursor. */
function landChunk(
  runs: FireRuns,
  jitterMs: Float64Array,
  paused: Uint8Array,
  runCursor: Int32Array,
  indexCursor: Float64Array,
  chunkStartMs: number,
  untilMs: number,
  limit: number,
  direct: Float64Array,
  diff: Float64Array,
): void {
  const starts = runs.start.data;
  const deltas = runs.delta.data;
  const counts = runs.count.data;
  const ends = runs.end;
  for (let i = 0; i < paused.length; i++) {
    if (paused[i]) continue;
    const jitter = jitterMs[i] as number;
    const end = ends[i] as number;
    let r = runCursor[i] as number;
    let k = indexCursor[i] as number;
    while (r < end) {
      const delta = deltas[r] as number;
      const count = counts[r] as number;
      let at = (starts[r] as number) + k * delta;
      if (jitter === 0 && delta % 1000 === 0) {
        // Whole-second steps: the second advances by delta / 1000 exactly, no division per fire.
        const n = firesBefore(at, delta, count - k, untilMs);
        const step = delta / 1000;
        for (let j = 0, s = ((at - chunkStartMs) / 1000) | 0; j < n; j++, s += step) {
          direct[s] = (direct[s] as number) + 1;
        }
        k += n;
      } else if (jitter === 0) {
        for (; k < count && at < untilMs; k++, at += delta) {
          const s = ((at - chunkStartMs) / 1000) | 0;
          direct[s] = (direct[s] as number) + 1;
        }
      } else {
        // Within a run the gap to the next fire is `delta`: the spread's width and density are the same each time.
        const inner = Math.min(jitter, delta) / 1000;
        const innerDensity = 1 / inner;
        for (; k < count && at < untilMs; k++, at += delta) {
          const within = k + 1 < count;
          const width = within
            ? inner
            : Math.min(jitter, (r + 1 < end ? (starts[r + 1] as number) : Infinity) - at) / 1000;
          const lo = (at - chunkStartMs) / 1000;
          const s0 = lo | 0;
          // Past the window's end nothing counts: a spread longer than the whole window is cut there.
          const hi = Math.min(lo + width, limit);
          const s1 = hi | 0;
          if (s1 === s0) {
            direct[s0] = (direct[s0] as number) + 1;
            continue;
          }
          const density = within ? innerDensity : 1 / width;
          direct[s0] = (direct[s0] as number) + (s0 + 1 - lo) * density;
          if (s1 > s0 + 1) {
            diff[s0 + 1] = (diff[s0 + 1] as number) + density;
            diff[s1] = (diff[s1] as number) - density;
          }
          if (hi > s1) direct[s1] = (direct[s1] as number) + (hi - s1) * density;
        }
      }
      if (k < count) break;
      r += 1;
      k = 0;
    }
    runCursor[i] = r;
    indexCursor[i] = k;
  }
}

/** One of the worst seconds while a pass runs, and the tasks found firing in it. */
interface TopSecond {
  sec: number;
  load: number;
  tasks: number;
  taskIds: string[];
  /** The last task counted in it. */
  last: number;
}

/**
 * Which tasks fire in a chunk's crowded seconds (`flags`), up to `untilMs`, advancing each task's cursor: per task,
 * its fires there (a jittered fire counts once if its spread touches one) into `crowdedFires`, the worst load among
 * those seconds into `worst`; and each of the top seconds (`top`, by index in the chunk) counts and lists the tasks
 * firing in it.
 */
function blameChunk(
  tasks: readonly SimulationTask[],
  runs: FireRuns,
  jitterMs: Float64Array,
  paused: Uint8Array,
  runCursor: Int32Array,
  indexCursor: Float64Array,
  chunkStartMs: number,
  untilMs: number,
  length: number,
  flags: Uint8Array,
  crowdedPrefix: Int32Array,
  direct: Float64Array,
  top: Map<number, TopSecond>,
  crowdedFires: Float64Array,
  worst: Float64Array,
): void {
  const starts = runs.start.data;
  const deltas = runs.delta.data;
  const counts = runs.count.data;
  const ends = runs.end;
  for (const p of top.keys()) flags[p] = TOP_FLAG;
  const listIn = (i: number, p: number) => {
    const entry = top.get(p);
    if (entry && entry.last !== i) {
      entry.last = i;
      entry.tasks += 1;
      if (entry.taskIds.length < TOP) entry.taskIds.push((tasks[i] as SimulationTask).id);
    }
  };
  const blame = (i: number, p: number) => {
    worst[i] = Math.max(worst[i] as number, direct[p] as number);
    if (flags[p] === TOP_FLAG) listIn(i, p);
  };
  for (let i = 0; i < tasks.length; i++) {
    if (paused[i]) continue;
    const jitter = jitterMs[i] as number;
    const end = ends[i] as number;
    let r = runCursor[i] as number;
    let k = indexCursor[i] as number;
    while (r < end) {
      const delta = deltas[r] as number;
      const count = counts[r] as number;
      let at = (starts[r] as number) + k * delta;
      if (jitter === 0 && delta % 1000 === 0) {
        const n = firesBefore(at, delta, count - k, untilMs);
        const step = delta / 1000;
        let hits = 0;
        let worstLoad = worst[i] as number;
        for (let j = 0, s = ((at - chunkStartMs) / 1000) | 0; j < n; j++, s += step) {
          const flag = flags[s] as number;
          if (flag === 0) continue;
          hits += 1;
          worstLoad = Math.max(worstLoad, direct[s] as number);
          if (flag === TOP_FLAG) listIn(i, s);
        }
        crowdedFires[i] = (crowdedFires[i] as number) + hits;
        worst[i] = worstLoad;
        k += n;
        at += n * delta;
      }
      for (; k < count && at < untilMs; k++, at += delta) {
        const lo = ((at - chunkStartMs) / 1000) | 0;
        if (jitter === 0) {
          if (!flags[lo]) continue;
          crowdedFires[i] = (crowdedFires[i] as number) + 1;
          blame(i, lo);
          continue;
        }
        const next = k + 1 < count ? at + delta : r + 1 < end ? (starts[r + 1] as number) : Infinity;
        const width = Math.min(jitter, next - at) / 1000;
        const hi = Math.min(length, Math.max(lo + 1, Math.ceil((at - chunkStartMs) / 1000 + width)));
        if ((crowdedPrefix[hi] as number) - (crowdedPrefix[lo] as number) === 0) continue;
        crowdedFires[i] = (crowdedFires[i] as number) + 1;
        for (let p = lo; p < hi; p++) if (flags[p]) blame(i, p);
      }
      if (k < count) break;
      r += 1;
      k = 0;
    }
    runCursor[i] = r;
    indexCursor[i] = k;
  }
}

/**
 * The expected starts of every second of the window, chunk by chunk: a fire without jitter adds 1 to its second;
 * a jittered fire spreads 1 uniformly over [nominal, nominal + min(jitter, gap to its next fire)) (what Temporal
 * does), through a difference array, so a fire costs O(1) whatever its jitter. Then the worst seconds, the
 * crowded ones per rate, and which tasks fire in the crowded ones.
 */
function loadPass(
  tasks: readonly SimulationTask[],
  runs: FireRuns,
  jitterMs: Float64Array,
  fromMs: number,
  toMs: number,
  rates: readonly StartRate[],
): PassResult {
  const target = (rates[0] as StartRate).startRate;
  const lowest = Math.min(...rates.map((rate) => rate.startRate));
  const base = Math.floor(fromMs / 1000);
  const seconds = Math.ceil(toMs / 1000) - base;
  let maxJitter = 0;
  for (let i = 0; i < tasks.length; i++) maxJitter = Math.max(maxJitter, jitterMs[i] as number);
  const spill = Math.min(seconds, Math.ceil(maxJitter / 1000)) + 2;
  const size = Math.min(CHUNK_SECONDS, seconds);
  const limit = size + spill - 1;
  const direct = new Float64Array(size + spill);
  const diff = new Float64Array(maxJitter > 0 ? size + spill + 1 : 0);
  const flags = new Uint8Array(size + 1);
  const hot = new Int32Array(size);
  const crowdedPrefix = new Int32Array(size + 1);
  const crowdedFires = new Float64Array(tasks.length);
  const worst = new Float64Array(tasks.length);
  const crowdedByRate = rates.map(() => 0);
  const paused = Uint8Array.from(tasks, (task) => (task.paused ? 1 : 0));
  // Cursors: each task's current run and the index of its next fire in that run.
  const runCursor = Int32Array.from(runs.begin);
  const indexCursor = new Float64Array(tasks.length);
  const savedRun = new Int32Array(tasks.length);
  const savedIndex = new Float64Array(tasks.length);
  let peak = 0;
  let peakAt: number | undefined;
  let crowded = 0;
  let top: TopSecond[] = [];
  let carried = 0;

  for (let chunk = 0; chunk < seconds; chunk += size) {
    const length = Math.min(size, seconds - chunk);
    const chunkStartMs = (base + chunk) * 1000;
    const chunkEndMs = Math.min(toMs, chunkStartMs + length * 1000);
    savedRun.set(runCursor);
    savedIndex.set(indexCursor);
    // 1. Every fire of the chunk into its second (or spread over its jitter).
    // Without jitter a fire adds 1 to one second, so the order fires land in changes no sum: tile by tile, all
    // tasks per tile, keeps the writes in cache. (A jittered spread would add its parts in another order.)
    const tileMs = diff.length === 0 ? TILE_SECONDS * 1000 : length * 1000;
    for (let tile = chunkStartMs; tile < chunkEndMs; tile += tileMs) {
      const tileEnd = Math.min(chunkEndMs, tile + tileMs);
      landChunk(runs, jitterMs, paused, runCursor, indexCursor, chunkStartMs, tileEnd, limit, direct, diff);
    }
    // 2. The load of each second: what landed in it plus the running density of the spreads covering it.
    const scan = scanChunk(direct, diff, length, carried, lowest, flags, hot);
    const running = scan.running;
    if (scan.peak > peak + EPSILON) {
      peak = scan.peak;
      peakAt = chunkStartMs + scan.peakIndex * 1000;
    }
    let chunkCrowded = 0;
    for (let h = 0; h < scan.hot; h++) {
      const p = hot[h] as number;
      const load = direct[p] as number;
      for (let r = 0; r < rates.length; r++) {
        if (load > (rates[r] as StartRate).startRate + EPSILON) crowdedByRate[r] = (crowdedByRate[r] as number) + 1;
      }
      if (!(load > target + EPSILON)) continue;
      flags[p] = 1;
      crowded += 1;
      chunkCrowded += 1;
      const sec = base + chunk + p;
      if (top.length < TOP || load > (top[top.length - 1]?.load ?? 0)) {
        top.push({ sec, load, tasks: 0, taskIds: [], last: -1 });
        top.sort((x, y) => y.load - x.load || x.sec - y.sec);
        if (top.length > TOP) top = top.slice(0, TOP);
      }
    }
    // 3. Which tasks fire in the crowded seconds (only where there are any).
    if (chunkCrowded > 0) {
      for (let p = 0; p < length; p++) crowdedPrefix[p + 1] = (crowdedPrefix[p] as number) + (flags[p] as number);
      const topHere = new Map(
        top
          .filter((entry) => entry.sec >= base + chunk && entry.sec < base + chunk + length)
          .map((e) => [e.sec - base - chunk, e]),
      );
      for (let tile = chunkStartMs; tile < chunkEndMs; tile += tileMs) {
        const tileEnd = Math.min(chunkEndMs, tile + tileMs);
        blameChunk(
          tasks,
          runs,
          jitterMs,
          paused,
          savedRun,
          savedIndex,
          chunkStartMs,
          tileEnd,
          length,
          flags,
          crowdedPrefix,
          direct,
          topHere,
          crowdedFires,
          worst,
        );
      }
    }
    // What spreads past the chunk moves to the start of the next one.
    direct.copyWithin(0, length, length + spill);
    direct.fill(0, spill);
    if (diff.length > 0) {
      carried = running;
      diff.copyWithin(0, length, length + spill + 1);
      diff.fill(0, spill + 1);
    }
  }
  const round2 = (value: number) => Math.round(value * 100) / 100;
  return {
    peak: { firesPerSecond: round2(peak), ...(peakAt !== undefined ? { at: iso(peakAt) } : {}) },
    crowdedSeconds: crowded,
    rates: rates.map((rate, r) => ({ ...rate, crowdedSeconds: crowdedByRate[r] as number })),
    crowds: top.map((entry) => ({
      at: iso(entry.sec * 1000),
      fires: round2(entry.load),
      tasks: entry.tasks,
      taskIds: entry.taskIds,
    })),
    crowdedFires,
    worst,
  };
}

/** A pass's result without its per-task arrays. */
function publicSummary(pass: PassResult): LoadSummary & { crowds: CrowdedSecond[] } {
  return { peak: pass.peak, crowdedSeconds: pass.crowdedSeconds, rates: pass.rates, crowds: pass.crowds };
}

/** Jitters a suggestion rounds up to, so that what it says reads as a human would write it. */
const NICE_MS = [
  1, 2, 3, 5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 300, 600, 900, 1200, 1800, 2700, 3600, 7200, 10_800, 21_600, 43_200,
  86_400,
].map((s) => s * 1000);

const niceUp = (ms: number): number => NICE_MS.find((nice) => nice >= ms) ?? Math.ceil(ms / 86_400_000) * 86_400_000;
const niceDown = (ms: number): number => [...NICE_MS].reverse().find((nice) => nice <= ms) ?? 0;

/**
 * The mean starts a second may carry so that a random spread stays under `rate`: with jitter, the starts in one
 * second vary around their mean m by about √m, so m + 3√m ≤ rate keeps the busiest second under the rate.
 */
export function safeMean(rate: number): number {
  const root = (-3 + Math.sqrt(9 + 4 * rate)) / 2;
  return root * root;
}

/**
 * Simulates a window of every task's fires: per task the fire count and DST events (what the policy did); across
 * tasks the peak starts per second and the seconds crowded beyond each start rate; per crowding task a `jitter`
 * that spreads it, verified by simulating again with every suggestion applied (and widened for tasks still
 * crowding, up to 4 rounds). Fire times come from `fireRuns`: the fires and DST events of `scheduleFires`.
 */
export function simulate(tasks: readonly SimulationTask[], options: SimulateOptions): SimulationResult {
  const { fromMs, toMs } = options;
  if (!(fromMs < toMs)) throw new RangeError('the window must end after it starts');
  if (toMs - fromMs > MAX_SIMULATION_MS) throw new RangeError('the window may span at most 10 years');
  const rates = options.rates?.length
    ? options.rates
    : [{ name: 'embedded', startRate: EMBEDDED_START_RATE, source: EMBEDDED_START_RATE_SOURCE }];
  const target = (rates[0] as StartRate).startRate;
  const { runs, views, totalFires } = collectFires(tasks, fromMs, toMs);
  const ownJitter = Float64Array.from(tasks, (task) => parseDuration(task.schedule.jitter ?? '0s') ?? 0);
  const before = loadPass(tasks, runs, ownJitter, fromMs, toMs, rates);
  views.forEach((view, i) => (view.crowdedFires = before.crowdedFires[i] as number));
  const summary = publicSummary(before);
  const rateGroups = simulateRateGroups(tasks, fromMs, toMs);
  const result: SimulationResult = {
    from: iso(fromMs),
    to: iso(toMs),
    startRate: target,
    totalFires,
    tasks: views,
    ...summary,
    suggestions: [],
    unresolved: [],
    ...(rateGroups.length ? { rateGroups } : {}),
  };
  if (before.crowdedSeconds === 0 || options.suggest === false) return result;

  const mean = safeMean(target);
  const jitter = Float64Array.from(ownJitter);
  const unresolved = new Map<number, string>();
  /** Widens the jitter of every task still crowding; false when none could be widened. */
  const widen = (pass: PassResult): boolean => {
    let changed = false;
    for (let i = 0; i < tasks.length; i++) {
      if (!((pass.crowdedFires[i] as number) > 0) || unresolved.has(i)) continue;
      const current = jitter[i] as number;
      const wanted = niceUp(Math.max(2 * current, (Math.max(current, 1000) * (pass.worst[i] as number)) / mean));
      const gap = runs.minGap[i] as number;
      const allowed = Number.isFinite(gap) ? niceDown(gap) : wanted;
      const next = Math.min(wanted, allowed);
      if (next <= current) {
        unresolved.set(
          i,
          `fires as often as every ${formatDuration(Math.round(gap))}, and Temporal caps jitter at the gap to the next fire: move it to a quieter second or fire it less often`,
        );
        continue;
      }
      jitter[i] = next;
      changed = true;
    }
    return changed;
  };
  let pass = before;
  let rounds = 0;
  while (pass.crowdedSeconds > 0 && rounds < MAX_ROUNDS && widen(pass)) {
    pass = loadPass(tasks, runs, jitter, fromMs, toMs, rates);
    rounds += 1;
  }
  tasks.forEach((task, i) => {
    if ((jitter[i] as number) === (ownJitter[i] as number)) return;
    const text = formatDuration(jitter[i] as number);
    result.suggestions.push({
      taskId: task.id,
      jitter: text,
      ...(task.schedule.jitter ? { was: task.schedule.jitter } : {}),
      schedule: { ...task.schedule, jitter: text },
      crowdedFires: before.crowdedFires[i] as number,
      worstSecond: Math.round((before.worst[i] as number) * 100) / 100,
    });
  });
  result.unresolved = [...unresolved].map(([i, reason]) => ({ taskId: (tasks[i] as SimulationTask).id, reason }));
  const after = publicSummary(pass);
  result.verification = { rounds, resolved: pass.crowdedSeconds === 0, ...after };
  return result;
}

/**
 * The start rates a simulation reports on, the target first: the caller's `startRate`, else the configured
 * cluster rate (`SURECRON_CLUSTER_START_RATE`), else the embedded server's; the embedded server's is always listed.
 */
export function startRates({ requested, cluster }: { requested?: number; cluster?: number }): StartRate[] {
  const rates: StartRate[] = [];
  if (requested !== undefined)
    rates.push({ name: 'requested', startRate: requested, source: 'the request (startRate)' });
  if (cluster !== undefined) rates.push({ name: 'cluster', startRate: cluster, source: 'SURECRON_CLUSTER_START_RATE' });
  rates.push({ name: 'embedded', startRate: EMBEDDED_START_RATE, source: EMBEDDED_START_RATE_SOURCE });
  return rates;
}

/** A stored task as the simulator sees it: paused or not, and the runs its schedule has left. */
export function storedSimulationTask(task: {
  id: string;
  spec: { schedule: ScheduleDef; rateLimit?: RateLimitDef };
  description: { state: { paused: boolean; remainingActions?: number } };
}): SimulationTask {
  const { paused, remainingActions } = task.description.state;
  return {
    id: task.id,
    schedule: task.spec.schedule,
    ...rateOf(task.spec.rateLimit),
    ...(paused ? { paused: true } : {}),
    ...(remainingActions !== undefined ? { remainingRuns: remainingActions } : {}),
  };
}

const rateOf = (rateLimit: RateLimitDef | undefined) =>
  rateLimit ? { rateLimit: { group: rateLimit.group, perSecond: perSecondOf(rateLimit) } } : {};

/** A task spec as the simulator sees it. */
export function specSimulationTask(spec: {
  id: string;
  schedule: ScheduleDef;
  paused?: boolean;
  maxRuns?: number;
  rateLimit?: RateLimitDef;
}): SimulationTask {
  return {
    id: spec.id,
    schedule: spec.schedule,
    ...rateOf(spec.rateLimit),
    ...(spec.paused ? { paused: true } : {}),
    ...(spec.maxRuns !== undefined ? { remainingRuns: spec.maxRuns } : {}),
  };
}
