import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { pino, type Logger } from 'pino';
import type { HandlerRegistry } from '../activities/handler.js';
import { createRunHandlerActivities, type RunHandlerInput, type RunHandlerOutput } from '../activities/run-handler.js';
import { formatInstant } from '../contract/run.js';
import { createHttpGuard } from '../security/http-guard.js';
import { parseDuration } from '../tasks/duration.js';
import { taskDefaults } from '../tasks/task-defaults.js';
import { silentSdkLogger } from '../temporal/runtime-logger.js';

export interface HandlerTestOptions {
  /** The registry to look the handler up in, e.g. `userCode.handlers` or one built with fakes. */
  handlers: HandlerRegistry;
  /** The function handler to run, by the name a task gives it. */
  name: string;
  input?: unknown;
  /** Default `test.task`. */
  taskId?: string;
  /** The fire this attempt belongs to; default `2026-01-01T00:00:00Z`. */
  nominalTime?: Date | string;
  /** Default 1. */
  attempt?: number;
  /** The last heartbeat of a previous attempt, to test resuming. */
  heartbeatDetails?: unknown;
  /** As in a task spec: the attempt's limit (default `5m`) and heartbeat timeout (default none). */
  timeouts?: { attempt?: string; heartbeat?: string };
  /** Cancels the attempt, as Temporal would, after the handler's n-th heartbeat or after some milliseconds. */
  cancel?: { afterHeartbeats: number } | { afterMs: number };
  /** The handler's `log`; default silent. */
  logger?: Logger;
}

/** How one attempt of a handler ended. */
export interface HandlerTestOutcome {
  status: 'succeeded' | 'failed';
  result?: unknown;
  /** The failure as the run sees it: a `NonRetryableError` fails the run at once, anything else is retried. */
  error?: { message: string; type: string; nonRetryable: boolean };
  /** Details of every heartbeat, in order. */
  heartbeats: unknown[];
  /** Whether the attempt was cancelled. */
  cancelled: boolean;
}

const durationMs = (text: string, field: string): number => {
  const ms = parseDuration(text);
  if (ms === undefined) throw new RangeError(`timeouts.${field}: "${text}" is not a duration`);
  return ms;
};

/**
 * Runs one attempt of a function handler through surecron's own `runHandler` activity in `@temporalio/testing`'s
 * `MockActivityEnvironment`, without a server: the handler sees the context a worker gives it (idempotency key,
 * attempt, heartbeat details, an abort signal honouring cancellation and timeouts).
 */
export async function testHandler(options: HandlerTestOptions): Promise<HandlerTestOutcome> {
  const taskId = options.taskId ?? 'test.task';
  const nominalTime = formatInstant(new Date(options.nominalTime ?? '2026-01-01T00:00:00Z'));
  const heartbeatTimeout = options.timeouts?.heartbeat;
  const env = new MockActivityEnvironment(
    {
      activityType: 'runHandler',
      attempt: options.attempt ?? 1,
      heartbeatDetails: options.heartbeatDetails,
      startToCloseTimeoutMs: durationMs(options.timeouts?.attempt ?? taskDefaults.attemptTimeout, 'attempt'),
      heartbeatTimeoutMs: heartbeatTimeout ? durationMs(heartbeatTimeout, 'heartbeat') : undefined,
      workflowExecution: { workflowId: `${taskId}-${nominalTime}`, runId: 'test' },
    },
    { logger: silentSdkLogger },
  );
  const heartbeats: unknown[] = [];
  let cancelled = false;
  const cancel = () => {
    cancelled = true;
    env.cancel();
  };
  const { cancel: when } = options;
  env.on('heartbeat', (details: unknown) => {
    heartbeats.push(details);
    if (when && 'afterHeartbeats' in when && heartbeats.length === when.afterHeartbeats) cancel();
  });
  const timer = when && 'afterMs' in when ? setTimeout(cancel, when.afterMs) : undefined;
  const activities = createRunHandlerActivities({
    handlers: options.handlers,
    logger: options.logger ?? pino({ level: 'silent' }),
    http: createHttpGuard(),
  });
  try {
    const runHandler = (input: RunHandlerInput): Promise<RunHandlerOutput> => activities.runHandler(input);
    const { result } = await env.run<[RunHandlerInput], RunHandlerOutput, typeof runHandler>(runHandler, {
      taskId,
      nominalTime,
      idempotencyKey: `${taskId}@${nominalTime}`,
      handler: { type: 'function', name: options.name, input: options.input },
    });
    return { status: 'succeeded', result, heartbeats, cancelled };
  } catch (error) {
    if (!(error instanceof ApplicationFailure)) throw error;
    const failure = {
      message: error.message,
      type: error.type ?? error.name,
      nonRetryable: error.nonRetryable === true,
    };
    return { status: 'failed', error: failure, heartbeats, cancelled };
  } finally {
    clearTimeout(timer);
  }
}
