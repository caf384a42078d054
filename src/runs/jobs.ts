import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { formatInstant, type HandlerDef } from '../contract/run.js';
import { toRunInput } from '../tasks/schedule.js';
import {
  taskSpecSchema,
  type CircuitBreakerDef,
  type ConcurrencyDef,
  type RateLimitDef,
  type RetryDef,
  type TimeoutsDef,
} from '../tasks/spec.js';
import { startRunTask } from '../tasks/start-run.js';
import { toRun, type Run } from './runs.js';

export interface JobRequest {
  handler: HandlerDef;
  input?: unknown;
  idempotencyKey: string;
  runAt?: string;
  retry?: RetryDef;
  timeouts?: TimeoutsDef;
  /** Shares a group's limits with tasks (and other jobs) of the group. */
  concurrency?: ConcurrencyDef;
  rateLimit?: RateLimitDef;
  /** Shares the dependency's breaker with tasks (and other jobs) that call it. */
  circuitBreaker?: CircuitBreakerDef;
}

/** Thrown when no job has the given id. */
export class JobNotFoundError extends Error {
  constructor(readonly jobId: string) {
    super(`job ${jobId} not found`);
    this.name = 'JobNotFoundError';
  }
}

/** A job's id is a digest of its idempotency key: the same key always names the same job. */
export function jobIdFor(idempotencyKey: string): string {
  return createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32);
}

const workflowIdFor = (jobId: string): string => `job-${jobId}`;

/**
 * Submits a one-off run. The workflow id derives from the idempotency key and ids are never reused, so
 * concurrent or repeated submissions with one key end in one execution: Temporal refuses the second start.
 */
export async function submitJob(client: Client, taskQueue: string, request: JobRequest, now = new Date()) {
  const jobId = jobIdFor(request.idempotencyKey);
  const workflowId = workflowIdFor(jobId);
  const taskId = `job.${jobId.slice(0, 16)}`;
  const handler =
    request.input !== undefined && request.handler.type !== 'http'
      ? { ...request.handler, input: request.input }
      : request.handler;
  const spec = taskSpecSchema.parse({
    id: taskId,
    schedule: { every: '24h' },
    handler,
    retry: request.retry,
    timeouts: request.timeouts,
    concurrency: request.concurrency,
    rateLimit: request.rateLimit,
    circuitBreaker: request.circuitBreaker,
  });
  const runAt = request.runAt ? new Date(request.runAt) : now;
  await startRunTask(client, {
    taskQueue,
    workflowId,
    input: {
      ...toRunInput(spec),
      nominalTime: formatInstant(runAt),
      trigger: 'manual',
      idempotencyKey: request.idempotencyKey,
    },
    ...(runAt > now ? { startDelayMs: runAt.getTime() - now.getTime() } : {}),
  });
  return { jobId, workflowId };
}

/**
 * A job's status and, once done, its result or error.
 * @throws {JobNotFoundError}
 */
export async function getJob(
  client: Client,
  jobId: string,
): Promise<{ jobId: string; status: Run['status']; run: Run; result?: unknown; error?: string }> {
  const handle = client.workflow.getHandle(workflowIdFor(jobId));
  try {
    const description = await handle.describe();
    const run = toRun(description);
    const { status } = run;
    if (status === 'succeeded') {
      const output = (await handle.result()) as { result?: unknown; attempt?: number };
      return { jobId, status, run: { ...run, attempts: output.attempt ?? run.attempts }, result: output.result };
    }
    if (status === 'running') return { jobId, status, run };
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) =>
        (e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message,
    );
    return { jobId, status, run, ...(error ? { error: String(error) } : {}) };
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new JobNotFoundError(jobId);
    throw error;
  }
}
