/**
 * Circuit breakers: one `circuitBreaker` workflow per dependency key on the deployment's task queue keeps the
 * outcomes of the dependency's recent calls. An attempt of a task with `circuitBreaker` asks the breaker (a query)
 * before it calls; while the breaker is open it does not call, and its run waits durably until the breaker lets a
 * trial through. This module is the breaker's state machine, pure, shared by the workflow and the attempts.
 */

/** `halfOpen`: the open time is over; one trial call decides between `closed` and `open`. */
export type CircuitPhase = 'closed' | 'open' | 'halfOpen';

/** A breaker's settings as tasks declare them; the most recent call's declaration is the one in force. */
export interface CircuitPolicy {
  /** Failed calls among the last `window` that open the breaker. */
  failures: number;
  window: number;
  /** How long it stays open before a trial call (ms). */
  openForMs: number;
}

/** A task's breaker, as `runTask` and its attempts receive it. */
export interface RunCircuit {
  key: string;
  policy: CircuitPolicy;
  /** While open: `wait` (the run waits for the breaker, within its total timeout) or `fail` (the attempt fails). */
  onOpen: 'wait' | 'fail';
  /** The task's alert severity and channels, for the alerts its calls cause. */
  alerts?: CircuitCall['alerts'];
}

/** The trial call of a half-open breaker, and until when it is held before another run may try. */
export interface CircuitTrial {
  workflowId: string;
  at: number;
  expiresAt: number;
}

/** A breaker's state: what its workflow holds and carries over a continue-as-new, and what its query answers. */
export interface CircuitState {
  key: string;
  policy: CircuitPolicy;
  phase: CircuitPhase;
  /** Outcomes of the last `window` calls while closed, oldest first: `true` for a failure. */
  recent: boolean[];
  /** When the phase began (ms since the epoch). */
  since: number;
  /** Open: when the trial may begin (ms). */
  halfOpenAt?: number;
  trial?: CircuitTrial;
  /** Times it opened from closed. */
  opened: number;
  /** Calls reported since the breaker began, and how many of them failed. */
  calls: number;
  failed: number;
}

/** The `circuitBreaker` workflow's input, and what it carries over a continue-as-new. */
export interface CircuitBreakerInput {
  key: string;
  policy: CircuitPolicy;
  state?: CircuitState;
}

/** One call's outcome, reported by the attempt that made it. */
export interface CircuitCall {
  workflowId: string;
  /** The task that made the call. */
  taskId: string;
  failed: boolean;
  /** The failure's message, for the alert that opens the breaker. */
  error?: string;
  policy: CircuitPolicy;
  /** The reporting task's alert severity and channels: an alert the call causes goes there. */
  alerts?: { severity: 'P0' | 'P1' | 'P2'; channels?: string[] };
}

/** A change of phase that operators hear about: closed → open, and half-open → closed. */
export type CircuitTransition = 'opened' | 'closed';

/** What an attempt may do now: call, claim the trial (and call if granted), or wait until `retryAt` (ms). */
export type CircuitAdmission = { kind: 'call' } | { kind: 'trial' } | { kind: 'wait'; retryAt: number };

/** Error type of an attempt refused by an open breaker (`onOpen: 'fail'`), or of a run it kept waiting too long. */
export const CIRCUIT_OPEN = 'CircuitOpen';

/** How long a run waited for its dependency's breaker, in its result. */
export interface CircuitWait {
  key: string;
  waitedMs: number;
}

/** How often a run waiting on a half-open breaker whose trial is taken looks again (ms). */
export const TRIAL_POLL_MS = 1000;

/** The signal an attempt reports a call's outcome with (sent with start, payload: {@link CircuitCall}). */
export const CIRCUIT_CALL_SIGNAL = 'circuitCall';
export const CIRCUIT_STATE_QUERY = 'circuitState';
/** Asks a half-open breaker for its trial call (payload `{ workflowId, ttlMs }`); true when granted. */
export const CLAIM_TRIAL_UPDATE = 'claimTrial';

/** A dependency key: an http origin (`https://api.example.com`) or a name a task gives. */
export const CIRCUIT_KEY_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,199}$/;

/** The workflow id of a dependency's `circuitBreaker` workflow. */
export function circuitWorkflowId(key: string): string {
  return `surecron-circuit.${key}`;
}

export function newCircuit(key: string, policy: CircuitPolicy, now: number): CircuitState {
  return { key, policy, phase: 'closed', recent: [], since: now, opened: 0, calls: 0, failed: 0 };
}

export const failuresIn = (state: Pick<CircuitState, 'recent'>): number => state.recent.filter(Boolean).length;

/** The state as of `now`: an open breaker whose open time is over is half-open. */
export function circuitAt(state: CircuitState, now: number): CircuitState {
  if (state.phase !== 'open' || (state.halfOpenAt ?? Infinity) > now) return state;
  const { halfOpenAt, ...rest } = state;
  return { ...rest, phase: 'halfOpen', since: halfOpenAt as number };
}

/** The state without its trial (a trial belongs to one half-open phase). */
function withoutTrial(state: CircuitState): CircuitState {
  const rest = { ...state };
  delete rest.trial;
  return rest;
}

function open(state: CircuitState, now: number): CircuitState {
  return { ...withoutTrial(state), phase: 'open', since: now, halfOpenAt: now + state.policy.openForMs };
}

/**
 * Records one call. Closed: the outcome joins the window, and `failures` failed calls among the last `window`
 * open it. Half-open: the trial's outcome closes it (success) or opens it again (failure). Calls that were in
 * flight when it opened change nothing but the totals.
 */
export function recordCall(
  current: CircuitState,
  call: Pick<CircuitCall, 'workflowId' | 'failed' | 'policy'>,
  now: number,
): { state: CircuitState; transition?: CircuitTransition } {
  const counted = {
    ...circuitAt(current, now),
    policy: call.policy,
    calls: current.calls + 1,
    failed: current.failed + Number(call.failed),
  };
  if (counted.phase === 'closed') {
    const recent = [...counted.recent, call.failed].slice(-call.policy.window);
    const state = { ...counted, recent };
    if (!call.failed || failuresIn(state) < call.policy.failures) return { state };
    return { state: { ...open(state, now), opened: state.opened + 1 }, transition: 'opened' };
  }
  if (counted.phase === 'halfOpen' && counted.trial?.workflowId === call.workflowId) {
    if (call.failed) return { state: open(counted, now) };
    return { state: { ...withoutTrial(counted), phase: 'closed', since: now, recent: [] }, transition: 'closed' };
  }
  return { state: counted };
}

/** Gives the trial of a half-open breaker to `workflowId` unless another run holds it (and its hold has not expired). */
export function claimTrial(
  current: CircuitState,
  { workflowId, ttlMs }: { workflowId: string; ttlMs: number },
  now: number,
): { state: CircuitState; granted: boolean } {
  const state = circuitAt(current, now);
  if (state.phase !== 'halfOpen') return { state, granted: state.phase === 'closed' };
  const held = state.trial && state.trial.expiresAt > now && state.trial.workflowId !== workflowId;
  if (held) return { state, granted: false };
  return { state: { ...state, trial: { workflowId, at: now, expiresAt: now + ttlMs } }, granted: true };
}

/** What an attempt may do, given the breaker's state (none: the dependency never failed, so call). */
export function admission(state: CircuitState | undefined, now: number): CircuitAdmission {
  if (!state) return { kind: 'call' };
  const current = circuitAt(state, now);
  if (current.phase === 'closed') return { kind: 'call' };
  if (current.phase === 'open') return { kind: 'wait', retryAt: current.halfOpenAt as number };
  const trial = current.trial;
  if (!trial || trial.expiresAt <= now) return { kind: 'trial' };
  return { kind: 'wait', retryAt: Math.min(trial.expiresAt, now + TRIAL_POLL_MS) };
}
