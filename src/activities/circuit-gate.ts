import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Logger } from 'pino';
import {
  admission,
  circuitWorkflowId,
  CIRCUIT_CALL_SIGNAL,
  CIRCUIT_STATE_QUERY,
  CLAIM_TRIAL_UPDATE,
  failuresIn,
  TRIAL_POLL_MS,
  type CircuitBreakerInput,
  type CircuitCall,
  type CircuitState,
  type RunCircuit,
} from '../contract/circuit.js';
import { workflowTypes } from '../contract/workflow-types.js';

/** How long an attempt waits for the breaker's answer before it calls anyway. */
const ANSWER_TIMEOUT_MS = 5000;

/** Whether an attempt calls its dependency; `report` says which outcomes the breaker needs to hear. */
export type GateDecision =
  | { call: true; trial: boolean; reportSuccess: boolean }
  | { call: false; retryAt: number; phase: 'open' | 'halfOpen' };

export interface CircuitGate {
  /** Asks the dependency's breaker whether this attempt may call it; a half-open breaker's trial is claimed here. */
  admit(circuit: RunCircuit, run: { workflowId: string; attemptTimeoutMs: number }): Promise<GateDecision>;
  /** Tells the breaker how a call went, starting the breaker's workflow with the first failure. */
  report(circuit: RunCircuit, call: Omit<CircuitCall, 'policy' | 'alerts'>): Promise<void>;
}

/**
 * The attempts' side of circuit breakers. The breaker must never become a point of failure for the tasks it
 * guards: a breaker that cannot answer (server away, no worker to run its query) lets the call through.
 */
export function createCircuitGate({
  client,
  taskQueue,
  logger,
}: {
  client: Client;
  taskQueue: string;
  logger: Logger;
}): CircuitGate {
  const within = <T>(work: () => Promise<T>): Promise<T> => client.withDeadline(Date.now() + ANSWER_TIMEOUT_MS, work);
  const stateOf = async (key: string): Promise<CircuitState | undefined> => {
    try {
      return await within(() => client.workflow.getHandle(circuitWorkflowId(key)).query<CircuitState>(CIRCUIT_STATE_QUERY));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  };
  return {
    async admit({ key }, { workflowId, attemptTimeoutMs }) {
      let state: CircuitState | undefined;
      try {
        state = await stateOf(key);
      } catch (error) {
        logger.warn({ key, err: (error as Error).message }, 'circuit breaker did not answer: calling');
        return { call: true, trial: false, reportSuccess: true };
      }
      const now = Date.now();
      const admitted = admission(state, now);
      if (admitted.kind === 'call') {
        // A success changes the breaker only when its window holds a failure.
        return { call: true, trial: false, reportSuccess: state !== undefined && failuresIn(state) > 0 };
      }
      if (admitted.kind === 'wait') {
        return { call: false, retryAt: admitted.retryAt, phase: state?.phase === 'open' ? 'open' : 'halfOpen' };
      }
      try {
        const granted = await within(() =>
          client.workflow
            .getHandle(circuitWorkflowId(key))
            .executeUpdate<boolean, [{ workflowId: string; ttlMs: number }]>(CLAIM_TRIAL_UPDATE, {
              args: [{ workflowId, ttlMs: attemptTimeoutMs }],
            }),
        );
        if (granted) return { call: true, trial: true, reportSuccess: true };
      } catch (error) {
        logger.warn({ key, err: (error as Error).message }, 'could not claim the circuit trial');
      }
      return { call: false, retryAt: now + TRIAL_POLL_MS, phase: 'halfOpen' };
    },
    async report({ key, policy, alerts }, call) {
      const input: CircuitBreakerInput = { key, policy };
      await within(() =>
        client.workflow.signalWithStart(workflowTypes.circuitBreaker, {
          workflowId: circuitWorkflowId(key),
          taskQueue,
          args: [input],
          signal: CIRCUIT_CALL_SIGNAL,
          signalArgs: [{ ...call, policy, ...(alerts ? { alerts } : {}) }],
          staticSummary: `surecron circuit breaker ${key}`,
        }),
      );
    },
  };
}
