import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Logger } from 'pino';
import { CIRCUIT_OPEN, type RunCircuit } from '../contract/circuit.js';
import type { AttemptFailure, HandlerDef } from '../contract/run.js';
import { passCircuit, type CircuitGate } from './circuit-gate.js';
import { NonRetryableError, type HandlerContext, type HandlerRegistry } from './handler.js';
import type { HttpGuard } from '../security/http-guard.js';
import { callHttp } from './http.js';

export interface ActivityDeps {
  handlers: HandlerRegistry;
  /** Observes every attempt as it starts (metrics: attempts, start lateness). */
  onAttempt?: (event: { taskId: string; attempt: number; latenessMs: number }) => void;
  /** Reports failed attempts to their run; without it only the last attempt's failure is in the history. */
  reportAttempt?: (workflowId: string, failure: AttemptFailure) => Promise<void>;
  logger: Logger;
  http: HttpGuard;
  /** Circuit breakers of the tasks that declare one; without it, `circuit` is ignored. */
  circuits?: CircuitGate;
}

export interface RunHandlerInput {
  taskId: string;
  nominalTime: string;
  idempotencyKey: string;
  handler: Exclude<HandlerDef, { type: 'workflow' }>;
  /** Attempts already made elsewhere (a run's first, local attempt): added to this activity's own count. */
  attemptsBefore?: number;
  /** The worker heartbeats for the handler (the task declares no heartbeat; see `RunTaskInput.workerHeartbeats`). */
  workerHeartbeats?: boolean;
  /** The dependency's breaker, asked before the call and told its outcome. */
  circuit?: RunCircuit;
}

export interface RunHandlerOutput {
  attempt: number;
  result: unknown;
  /**
   * The breaker was open (`circuit.onOpen: 'wait'`): the handler was not called and this attempt does not count;
   * the run waits until `retryAt` (ISO 8601) and tries again.
   */
  circuitOpen?: { key: string; retryAt: string };
}

/**
 * The activity that runs a task's handler, built from its dependencies so tests can inject fakes.
 */
export function createRunHandlerActivities({
  handlers,
  logger,
  http,
  reportAttempt,
  onAttempt,
  circuits,
}: ActivityDeps) {
  return {
    /** Runs one attempt of a task's handler. */
    async runHandler(input: RunHandlerInput): Promise<RunHandlerOutput> {
      const { taskId, nominalTime, idempotencyKey, handler } = input;
      const activity = Context.current();
      const { workflowExecution, isLocal } = activity.info;
      const attempt = activity.info.attempt + (input.attemptsBefore ?? 0);
      const heartbeatDetails: unknown = activity.info.heartbeatDetails;
      const log = logger.child({
        taskId,
        nominalTime,
        workflowId: workflowExecution?.workflowId,
        runId: workflowExecution?.runId,
        attempt,
      });
      const circuit = input.circuit && workflowExecution ? input.circuit : undefined;
      const passage = await passCircuit(circuits, circuit, {
        workflowId: workflowExecution?.workflowId as string,
        taskId,
        attemptTimeoutMs: activity.info.startToCloseTimeoutMs || 60_000,
        log,
      });
      if (circuit && passage.refused) {
        const { retryAt, phase } = passage.refused;
        if (circuit.onOpen === 'fail') {
          throw ApplicationFailure.create({
            type: CIRCUIT_OPEN,
            message: `circuit to ${circuit.key} is ${phase === 'open' ? 'open' : 'half-open'}: not called`,
            details: [{ attempt, key: circuit.key, retryAt }],
          });
        }
        log.info({ key: circuit.key, retryAt, phase }, 'circuit open: not called, the run waits');
        return { attempt, result: null, circuitOpen: { key: circuit.key, retryAt } };
      }
      const { signal, heartbeat, dispose } = attemptSignal(activity, input.workerHeartbeats === true);
      const context: HandlerContext = {
        taskId,
        nominalTime,
        idempotencyKey,
        attempt,
        heartbeatDetails,
        heartbeat,
        signal,
        log,
      };
      const started = Date.now();
      onAttempt?.({ taskId, attempt, latenessMs: started - Date.parse(nominalTime) });
      try {
        let result: unknown;
        if (handler.type === 'http') {
          result = await callHttp(handler, context, http);
        } else {
          const fn = handlers[handler.name];
          if (!fn) throw new NonRetryableError(`no handler named "${handler.name}" is registered`);
          result = await fn(handler.input, context);
        }
        log.info({ durationMs: Date.now() - started }, 'handler succeeded');
        await passage.tell(false);
        return { attempt, result };
      } catch (error) {
        if (signal.aborted && !activity.cancellationSignal.aborted)
          log.warn({ reason: String(signal.reason) }, 'attempt cut off');
        const err = error instanceof Error ? error : new Error(String(error));
        log.warn(
          { durationMs: Date.now() - started, err: { type: err.name, message: err.message } },
          'handler attempt failed',
        );
        // Every failure carries the attempt number, so the run can report how many attempts it took.
        const failure = err instanceof ApplicationFailure ? err : undefined;
        // A failure retrying cannot fix (a 4xx, a bad input) means the dependency answered: not its failure.
        const nonRetryable = err instanceof NonRetryableError || (failure?.nonRetryable ?? false);
        await passage.tell(!nonRetryable, err.message);
        // A local attempt's failure is in its marker; a signal during it would fail the workflow task.
        if (reportAttempt && workflowExecution && !isLocal) {
          const report = {
            attempt,
            at: new Date().toISOString(),
            message: err.message,
            type: failure?.type ?? err.name,
          };
          await reportAttempt(workflowExecution.workflowId, report).catch((e: unknown) =>
            log.warn({ err: e }, 'could not record the failed attempt in the run history'),
          );
        }
        throw ApplicationFailure.create({
          message: err.message,
          type: failure?.type ?? err.name,
          nonRetryable,
          details: [{ attempt, ...(failure?.details?.[0] as Record<string, unknown> | undefined) }],
          nextRetryDelay: failure?.nextRetryDelay as number | undefined,
        });
      } finally {
        dispose();
      }
    },
  };
}

/**
 * The abort signal a handler gets: Temporal's cancellation, plus this worker's own view of the attempt's
 * start-to-close and heartbeat timeouts. The server retries a timed-out attempt on its own; aborting locally
 * stops the old attempt instead of letting it overlap the retry. With `workerHeartbeats` the heartbeat timeout is
 * the worker's liveness, not the handler's promise: the worker beats every third of it (with the handler's last
 * details, so they survive), and a handler that never beats is not cut off.
 */
function attemptSignal(
  activity: Context,
  workerHeartbeats: boolean,
): {
  signal: AbortSignal;
  heartbeat: (details?: unknown) => void;
  dispose: () => void;
} {
  const { startToCloseTimeoutMs, heartbeatTimeoutMs, isLocal } = activity.info;
  const local = new AbortController();
  let lastBeat = Date.now();
  let lastDetails: unknown = activity.info.heartbeatDetails;
  const timers: NodeJS.Timeout[] = [];
  if (startToCloseTimeoutMs > 0) {
    timers.push(setTimeout(() => local.abort(new Error('attempt timeout')), startToCloseTimeoutMs));
  }
  if (heartbeatTimeoutMs && workerHeartbeats && !isLocal) {
    activity.heartbeat(lastDetails);
    timers.push(setInterval(() => activity.heartbeat(lastDetails), Math.max(1000, Math.floor(heartbeatTimeoutMs / 3))));
  } else if (heartbeatTimeoutMs) {
    const check = setInterval(
      () => {
        if (Date.now() - lastBeat > heartbeatTimeoutMs) local.abort(new Error('heartbeat timeout'));
      },
      Math.max(100, Math.floor(heartbeatTimeoutMs / 4)),
    );
    timers.push(check);
  }
  for (const timer of timers) timer.unref();
  return {
    signal: AbortSignal.any([activity.cancellationSignal, local.signal]),
    heartbeat: (details) => {
      lastBeat = Date.now();
      lastDetails = details;
      activity.heartbeat(details);
    },
    dispose: () => timers.forEach((timer) => clearTimeout(timer)),
  };
}

export type RunHandlerActivities = ReturnType<typeof createRunHandlerActivities>;
