import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  log,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { Alert, DeliverAlertInput } from '../contract/alert.js';
import {
  circuitAt,
  circuitWorkflowId,
  CIRCUIT_CALL_SIGNAL,
  CIRCUIT_STATE_QUERY,
  claimTrial,
  CLAIM_TRIAL_UPDATE,
  failuresIn,
  newCircuit,
  recordCall,
  type CircuitBreakerInput,
  type CircuitCall,
  type CircuitState,
  type CircuitTransition,
} from '../contract/circuit.js';
import { workflowTypes } from '../contract/workflow-types.js';

export const circuitCallSignal = defineSignal<[CircuitCall]>(CIRCUIT_CALL_SIGNAL);
export const circuitStateQuery = defineQuery<CircuitState>(CIRCUIT_STATE_QUERY);
export const claimTrialUpdate = defineUpdate<boolean, [{ workflowId: string; ttlMs: number }]>(CLAIM_TRIAL_UPDATE);

/** A new run of the breaker after this many events, carrying its state. */
const HISTORY_LIMIT = 5_000;

/** What the Web UI shows as the breaker's current details. */
function describe(state: CircuitState): string {
  const { policy } = state;
  const since = new Date(state.since).toISOString();
  const window = `${failuresIn(state)} of the last ${state.recent.length} calls failed (opens at ${policy.failures} of ${policy.window})`;
  if (state.phase === 'closed') return `**closed** since ${since}: ${window}`;
  if (state.phase === 'open') {
    return `**open** since ${since}: calls wait until ${new Date(state.halfOpenAt as number).toISOString()}, then one trial call`;
  }
  const trial = state.trial ? `, trial by ${state.trial.workflowId}` : '';
  return `**half-open** since ${since}: one trial call decides${trial}`;
}

function transitionAlert(key: string, transition: CircuitTransition, call: CircuitCall, state: CircuitState): Alert {
  const openFor = Math.round(state.policy.openForMs / 1000);
  return {
    event: transition === 'opened' ? 'circuit_open' : 'circuit_closed',
    taskId: `circuit:${key}`,
    severity: call.alerts?.severity ?? 'P1',
    at: new Date().toISOString(),
    summary:
      transition === 'opened'
        ? `circuit to ${key} opened: ${failuresIn(state)} of the last ${state.recent.length} calls failed (last: ${call.error ?? 'unknown error'}); calls wait, a trial every ${openFor} s`
        : `circuit to ${key} closed: a trial call by ${call.taskId} succeeded`,
    details: {
      key,
      taskId: call.taskId,
      workflowId: call.workflowId,
      ...(call.error ? { error: call.error } : {}),
      failures: state.policy.failures,
      window: state.policy.window,
      openForMs: state.policy.openForMs,
    },
  };
}

/**
 * One dependency's circuit breaker, shared by every task and worker that calls it. Attempts report their calls'
 * outcomes (`circuitCall` signals, sent with start), read its state (a query) before calling, and claim the trial of a
 * half-open breaker (`claimTrial` update). It raises one `circuit_open` alert when it opens and one `circuit_closed`
 * when a trial closes it, whatever the number of tasks calling the dependency.
 */
export async function circuitBreaker(input: CircuitBreakerInput): Promise<void> {
  const { key } = input;
  let state = input.state ?? newCircuit(key, input.policy, Date.now());
  const transitions: { transition: CircuitTransition; call: CircuitCall; state: CircuitState }[] = [];
  let changes = 0;

  setHandler(circuitCallSignal, (call) => {
    const next = recordCall(state, call, Date.now());
    state = next.state;
    if (next.transition) transitions.push({ transition: next.transition, call, state });
    changes += 1;
  });
  setHandler(circuitStateQuery, () => state);
  setHandler(claimTrialUpdate, (claim) => {
    const next = claimTrial(state, claim, Date.now());
    state = next.state;
    changes += 1;
    return next.granted;
  });

  for (;;) {
    const seen = changes;
    state = circuitAt(state, Date.now());
    setCurrentDetails(describe(state));
    for (const { transition, call, state: at } of transitions.splice(0)) {
      log.warn(`circuit ${transition}`, { key, taskId: call.taskId, workflowId: call.workflowId });
      const alert: DeliverAlertInput = {
        alert: transitionAlert(key, transition, call, at),
        tags: [],
        ...(call.alerts?.channels ? { channels: call.alerts.channels } : {}),
      };
      await startChild(workflowTypes.deliverAlert, {
        args: [alert],
        workflowId: `${circuitWorkflowId(key)}-alert-${at.opened}-${transition}`,
        parentClosePolicy: 'ABANDON',
      }).catch((error: unknown) => log.warn('could not raise circuit alert', { key, error: (error as Error).message }));
    }
    if (workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested) {
      // Every handler is synchronous: what they received is in the state carried over.
      await continueAsNew<typeof circuitBreaker>({ key, policy: state.policy, state });
    }
    const wakeAt = state.phase === 'open' ? (state.halfOpenAt as number) : undefined;
    const changed = () => changes !== seen || transitions.length > 0;
    if (wakeAt === undefined) await condition(changed);
    else await condition(changed, Math.max(1, wakeAt - Date.now()));
  }
}
