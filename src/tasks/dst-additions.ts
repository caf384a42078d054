/** The period of an addition: it fires once within any horizon, and next 40 years later. */
export const ADDITION_PERIOD_MS = (40 * 365 + 10) * 86_400_000;

/** An addition as an interval spec: period and phase (both whole seconds, as the server reads them). */
export function additionInterval(atMs: number): { every: number; offset: number } {
  return { every: ADDITION_PERIOD_MS, offset: atMs % ADDITION_PERIOD_MS };
}

/** True for an interval spec that is an addition (not the task's own `every`). */
export function isAdditionInterval(everyMs: number): boolean {
  return everyMs === ADDITION_PERIOD_MS;
}
