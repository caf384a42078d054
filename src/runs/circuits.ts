import type { Client } from '@temporalio/client';
import {
  circuitAt,
  CIRCUIT_STATE_QUERY,
  failuresIn,
  type CircuitPhase,
  type CircuitState,
} from '../contract/circuit.js';
import { workflowTypes } from '../contract/workflow-types.js';
import { queryRunning } from '../temporal/visibility.js';

/** A breaker as `GET /v1/circuits` lists it. */
export interface CircuitView {
  key: string;
  state: CircuitPhase;
  /** When it entered that state (ISO 8601). */
  since: string;
  /** Open: when its trial call may begin. */
  halfOpenAt?: string;
  /** Half-open: the run holding the trial call. */
  trialBy?: string;
  /** Failed calls among the last `recentCalls` (while closed). */
  recentFailures: number;
  recentCalls: number;
  failures: number;
  window: number;
  openForMs: number;
  /** Times it opened since the breaker began. */
  opened: number;
  /** Calls reported since the breaker began, and how many failed (successes are reported only when they count). */
  calls: number;
  failed: number;
}

export function toCircuitView(stored: CircuitState, now = Date.now()): CircuitView {
  const state = circuitAt(stored, now);
  const iso = (ms: number) => new Date(ms).toISOString();
  return {
    key: state.key,
    state: state.phase,
    since: iso(state.since),
    ...(state.halfOpenAt !== undefined ? { halfOpenAt: iso(state.halfOpenAt) } : {}),
    ...(state.trial && state.trial.expiresAt > now ? { trialBy: state.trial.workflowId } : {}),
    recentFailures: failuresIn(state),
    recentCalls: state.recent.length,
    failures: state.policy.failures,
    window: state.policy.window,
    openForMs: state.policy.openForMs,
    opened: state.opened,
    calls: state.calls,
    failed: state.failed,
  };
}

/** The deployment's circuit breakers, each as its workflow holds it now (a query: a worker of the task queue answers). */
export async function listCircuits(client: Client, taskQueue: string): Promise<CircuitView[]> {
  const states = await queryRunning<CircuitState>(client, {
    workflowType: workflowTypes.circuitBreaker,
    taskQueue,
    query: CIRCUIT_STATE_QUERY,
  });
  return states.map((state) => toCircuitView(state)).sort((a, b) => a.key.localeCompare(b.key));
}
