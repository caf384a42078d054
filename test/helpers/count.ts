/** How often each value occurs. */
export function countBy(values: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  return counts;
}

/** The most intervals `[start, end)` open at one instant (one that ends as another starts does not overlap it). */
export function mostAtOnce(intervals: readonly { start: number; end: number }[]): number {
  const edges = intervals.flatMap(({ start, end }) => [
    { at: start, delta: 1 },
    { at: end, delta: -1 },
  ]);
  edges.sort((a, b) => a.at - b.at || a.delta - b.delta);
  let going = 0;
  let most = 0;
  for (const { delta } of edges) {
    going += delta;
    most = Math.max(most, going);
  }
  return most;
}
