import { parseDuration } from './duration.js';
import { taskDefaults } from './task-defaults.js';
import type { TaskSpec } from './spec.js';

/**
 * The longest attempt `auto` runs as a local activity: the workflow task timeout (10 s). A longer attempt would
 * keep the workflow task open past it (the SDK then heartbeats it with extra workflow tasks), and a worker that
 * dies mid-attempt is noticed only after the timeout either way.
 */
export const LOCAL_ATTEMPT_LIMIT_MS = 10_000;

/**
 * Whether a task's handler runs as a local activity, inside the run's workflow task: no activity task to
 * dispatch, one workflow task per run instead of two, the attempt recorded as a marker. `execution` decides;
 * `auto` (the default) picks local for a function or http handler whose attempt timeout is at most
 * {@link LOCAL_ATTEMPT_LIMIT_MS}, that does not heartbeat and has no circuit breaker. Retries, timeouts and the
 * idempotency key are the same either way.
 */
export function runsLocally(spec: Pick<TaskSpec, 'execution' | 'handler' | 'timeouts' | 'circuitBreaker'>): boolean {
  // An attempt asks its breaker first: inside a workflow task, that could wait on a workflow task of the breaker.
  if (spec.handler.type === 'workflow' || spec.execution === 'activity' || spec.circuitBreaker) return false;
  if (spec.execution === 'local') return true;
  const attempt = parseDuration(spec.timeouts?.attempt ?? taskDefaults.attemptTimeout) ?? Infinity;
  return attempt <= LOCAL_ATTEMPT_LIMIT_MS && spec.timeouts?.heartbeat === undefined;
}
