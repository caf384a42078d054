/** Fires `start + k·delta` for `k < count` (`delta` is 0 when `count` is 1). */
export interface FireRun {
  start: number;
  delta: number;
  count: number;
}

/** Where ascending fires go: one at a time, or a whole arithmetic progression at once. */
export interface FireSink {
  push(atMs: number): void;
  /** `count` fires `start + k·delta`, `delta > 0`. */
  pushProgression(start: number, delta: number, count: number): void;
}

/** Collects fires into an array (progressions expanded). */
export class FireList implements FireSink {
  readonly fires: number[] = [];
  push(atMs: number): void {
    this.fires.push(atMs);
  }
  pushProgression(start: number, delta: number, count: number): void {
    for (let k = 0; k < count; k++) this.fires.push(start + k * delta);
  }
}

/**
 * Run-length encodes ascending fires, up to `limit` of them: a run takes its second fire at whatever gap, then
 * every further fire at that same gap. A fire not after the last one is dropped (the same instant from two
 * sources fires once). A progression costs O(1), not O(count).
 */
export class RunBuilder implements FireSink {
  readonly runs: FireRun[] = [];
  fires = 0;
  /** The last fire taken. */
  last = -Infinity;

  constructor(readonly limit = Infinity) {}

  get full(): boolean {
    return this.fires >= this.limit;
  }

  push(atMs: number): void {
    if (atMs <= this.last || this.full) return;
    const run = this.runs.at(-1);
    if (run && run.count === 1) [run.delta, run.count] = [atMs - run.start, 2];
    else if (run && atMs - this.last === run.delta) run.count += 1;
    else this.runs.push({ start: atMs, delta: 0, count: 1 });
    this.fires += 1;
    this.last = atMs;
  }

  pushProgression(start: number, delta: number, count: number): void {
    for (let k = 0; k < count; k++) {
      const run = this.runs.at(-1);
      const at = start + k * delta;
      if (run && run.count >= 2 && run.delta === delta && at - this.last === delta) {
        const taken = Math.min(count - k, this.limit - this.fires);
        if (taken <= 0) return;
        run.count += taken;
        this.fires += taken;
        this.last = at + (taken - 1) * delta;
        return;
      }
      this.push(at);
    }
  }
}
