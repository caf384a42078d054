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

/** How long an attempt waits for the breaker's answer. */
const ANSWER_TIMEOUT_MS = 5000;
/** Attempts asking within this long of one another share one answer. */
const FRESH_MS = 200;
/** A breaker that does not answer is judged by an answer at most this old; with none, the call goes through. */
const STALE_OK_MS = 30_000;

/** An error and its cause, one line: the client wraps a server's answer in a generic message. */
const describe = (error: unknown): string => {
  const cause = error instanceof Error ? error.cause : undefined;
  return `${(error as Error).message}${cause instanceof Error ? `: ${cause.message}` : ''}`;
};

/** Whether an attempt calls its dependency; `reportSuccess`: whether a success changes the breaker (failures always do). */
export type GateDecision =
  { call: true; trial: boolean; reportSuccess: boolean } | { call: false; retryAt: number; phase: 'open' | 'halfOpen' };

export interface CircuitGate {
  /** Asks the dependency's breaker whether this attempt may call it; a half-open breaker's trial is claimed here. */
  admit(circuit: RunCircuit, run: { workflowId: string; attemptTimeoutMs: number }): Promise<GateDecision>;
  /** Tells the breaker how a call went, starting the breaker's workflow with the first failure. */
  report(circuit: RunCircuit, call: Omit<CircuitCall, 'policy' | 'alerts'>): Promise<void>;
}

/**
 * The attempts' side of circuit breakers. Reads are shared: attempts of one worker asking about one key within
 * {@link FRESH_MS} share one query, and one claim of a trial at a time is in flight, so a crowd of runs waking
 * together costs the breaker one answer, not one each. The breaker must never become a point of failure for the
 * tasks it guards: one that cannot answer is judged by its last answer (if under {@link STALE_OK_MS} old), and
 * with none, the call goes through.
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
  const reads = new Map<string, { at: number; answer: Promise<CircuitState | undefined> }>();
  const known = new Map<string, { at: number; state: CircuitState | undefined }>();
  const claiming = new Set<string>();
  const query = async (key: string): Promise<CircuitState | undefined> => {
    try {
      const state = await within(() =>
        client.workflow.getHandle(circuitWorkflowId(key)).query<CircuitState>(CIRCUIT_STATE_QUERY),
      );
      known.set(key, { at: Date.now(), state });
      return state;
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error;
      known.set(key, { at: Date.now(), state: undefined });
      return undefined;
    }
  };
  const stateOf = (key: string): Promise<CircuitState | undefined> => {
    const shared = reads.get(key);
    if (shared && Date.now() - shared.at < FRESH_MS) return shared.answer;
    const answer = query(key);
    reads.set(key, { at: Date.now(), answer });
    return answer;
  };
  return {
    async admit({ key }, { workflowId, attemptTimeoutMs }) {
      let state: CircuitState | undefined;
      try {
        state = await stateOf(key);
      } catch (error) {
        const last = known.get(key);
        if (!last || Date.now() - last.at > STALE_OK_MS) {
          logger.warn({ key, err: describe(error) }, 'circuit breaker did not answer: calling');
          return { call: true, trial: false, reportSuccess: true };
        }
        logger.warn({ key, err: describe(error) }, 'circuit breaker did not answer: judged by its last answer');
        state = last.state;
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
      if (claiming.has(key)) return { call: false, retryAt: now + TRIAL_POLL_MS, phase: 'halfOpen' };
      claiming.add(key);
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
        logger.warn({ key, err: describe(error) }, 'could not claim the circuit trial');
      } finally {
        claiming.delete(key);
        reads.delete(key);
      }
      return { call: false, retryAt: now + TRIAL_POLL_MS, phase: 'halfOpen' };
    },
    async report({ key, policy, alerts }, call) {
      const input: CircuitBreakerInput = { key, policy };
      try {
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
      } finally {
        // The next attempt reads what this outcome did to the breaker.
        reads.delete(key);
      }
    },
  };
}

/** One attempt's way through its breaker: refused (with when to try again), or let through and told to report. */
export interface CircuitPassage {
  refused?: { retryAt: string; phase: 'open' | 'halfOpen' };
  /** Tells the breaker how the call went, when it needs to know; the breaker's trouble never fails the attempt. */
  tell(failed: boolean, error?: string): Promise<void>;
}

const unguarded: CircuitPassage = { tell: async () => Promise.resolve() };

/** Asks `circuit`'s breaker (none, or no gate: the attempt is not guarded) whether this attempt may call. */
export async function passCircuit(
  gate: CircuitGate | undefined,
  circuit: RunCircuit | undefined,
  run: { workflowId: string; taskId: string; attemptTimeoutMs: number; log: Logger },
): Promise<CircuitPassage> {
  if (!gate || !circuit) return unguarded;
  const decision = await gate.admit(circuit, run);
  if (!decision.call) {
    return { ...unguarded, refused: { retryAt: new Date(decision.retryAt).toISOString(), phase: decision.phase } };
  }
  return {
    async tell(failed, error) {
      if (!(failed || decision.trial || decision.reportSuccess)) return;
      const call = { workflowId: run.workflowId, taskId: run.taskId, failed, ...(error ? { error } : {}) };
      await gate
        .report(circuit, call)
        .catch((e: unknown) => run.log.warn({ err: e }, 'could not tell the circuit breaker'));
    },
  };
}
