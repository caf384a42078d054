import type { Logger } from 'pino';

/** What every handler gets besides its input. */
export interface HandlerContext {
  taskId: string;
  /** The fire time this run stands for, ISO 8601 UTC. */
  nominalTime: string;
  /** `<taskId>@<nominalTime>`: the same for every attempt of one fire, unique across fires. */
  idempotencyKey: string;
  /** 1 for the first try. */
  attempt: number;
  /** Details from the last heartbeat of a previous attempt, to resume long work. */
  heartbeatDetails: unknown;
  /** Records progress; the next attempt resumes from it. Cancellation arrives through `signal`. */
  heartbeat(details?: unknown): void;
  signal: AbortSignal;
  log: Logger;
}

/** A task handler: a plain async function registered by name. */
export type TaskHandler = (input: unknown, context: HandlerContext) => Promise<unknown>;

export type HandlerRegistry = Readonly<Record<string, TaskHandler>>;

/**
 * Throw this from a handler for a failure that retrying cannot fix (bad input, a record that is gone): the run
 * fails at once instead of spending its remaining attempts.
 */
export class NonRetryableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'NonRetryableError';
  }
}
