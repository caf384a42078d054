import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import type { AttemptFailure, RunTaskInput } from '../contract/run.js';
import { toRun, type Run } from './runs.js';
import { workflowTypes } from '../contract/workflow-types.js';

const { temporal } = proto;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/** Thrown when no run has the given workflow id. */
export class RunNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`run ${workflowId} not found`);
    this.name = 'RunNotFoundError';
  }
}

export interface Attempt {
  attempt: number;
  /** When the attempt ended (failed attempts) or started (the last one). */
  at: string;
  outcome: 'failed' | 'succeeded' | 'running';
  error?: string;
}

export interface RunDetail extends Run {
  input: unknown;
  attemptsDetail: Attempt[];
  result?: unknown;
}

/** The marker a local activity's end is recorded with. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/** When a history event happened, as ISO 8601. */
export const eventTime = (event: HistoryEvent): string =>
  new Date(
    Number(event.eventTime?.seconds ?? 0) * 1000 + Math.floor((event.eventTime?.nanos ?? 0) / 1e6),
  ).toISOString();

/**
 * A run with its input, every attempt (failed attempts are reported into the history by the activity) and its
 * result, read from the workflow's history.
 * @throws {RunNotFoundError}
 */
export async function runDetail(client: Client, workflowId: string): Promise<RunDetail> {
  const handle = client.workflow.getHandle(workflowId);
  let description;
  try {
    description = await handle.describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) throw new RunNotFoundError(workflowId);
    throw error;
  }
  if (description.type !== workflowTypes.runTask) throw new RunNotFoundError(workflowId);
  const run = toRun(description);
  const converter = client.options.loadedDataConverter.payloadConverter;
  const history = await handle.fetchHistory();
  let input: unknown;
  const attempts: Attempt[] = [];
  // A local attempt leaves no activity events but a marker: its failure, or its success (numbered in the result).
  let markerAt: string | undefined;
  // Retries after a failed local attempt are an activity numbered from 1 by the server, from 2 by the run.
  let localFailures = 0;
  for (const event of history.events ?? []) {
    const marker = event.markerRecordedEventAttributes;
    if (marker?.markerName === LOCAL_ACTIVITY_MARKER) {
      if (!marker.failure) markerAt = eventTime(event);
      else {
        const data = converter.fromPayload<{ attempt?: number }>(marker.details?.data?.payloads?.[0] ?? {});
        const error = marker.failure.cause?.message ?? marker.failure.message ?? undefined;
        localFailures += 1;
        attempts.push({
          attempt: data.attempt ?? 1,
          at: eventTime(event),
          outcome: 'failed',
          ...(error ? { error } : {}),
        });
      }
    }
    const started = event.workflowExecutionStartedEventAttributes;
    if (started) input = converter.fromPayload<RunTaskInput>(started.input?.payloads?.[0] ?? {});
    const signal = event.workflowExecutionSignaledEventAttributes;
    if (signal?.signalName === 'attemptFailed') {
      const failure = converter.fromPayload<AttemptFailure>(signal.input?.payloads?.[0] ?? {});
      attempts.push({ attempt: failure.attempt, at: failure.at, outcome: 'failed', error: failure.message });
    }
    const activityStarted = event.activityTaskStartedEventAttributes;
    const number = (activityStarted?.attempt ?? 1) + localFailures;
    if (activityStarted && !attempts.some((a) => a.attempt === number)) {
      attempts.push({ attempt: number, at: eventTime(event), outcome: 'running' });
    }
    if (event.eventType === temporal.api.enums.v1.EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED) {
      const last = attempts.at(-1);
      if (last?.outcome === 'running') last.outcome = 'succeeded';
    }
  }
  let result: unknown;
  if (run.status === 'succeeded') {
    const output = (await handle.result()) as { result?: unknown; attempt?: number } | undefined;
    result = output?.result;
    const attempt = output?.attempt;
    if (markerAt && attempt && !attempts.some((a) => a.attempt === attempt))
      attempts.push({ attempt, at: markerAt, outcome: 'succeeded' });
  }
  const detail: RunDetail = { ...run, input, attemptsDetail: attempts.sort((a, b) => a.attempt - b.attempt) };
  if (result !== undefined) detail.result = result;
  return detail;
}
