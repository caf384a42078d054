import { WorkflowNotFoundError, type Client, type WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { RunTaskInput } from '../contract/run.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { workflowTypes } from '../contract/workflow-types.js';
import { runRefKey, type FireRunView, type RunRef } from '../tasks/changes.js';
import { listExecutions, quote, quoteList } from '../temporal/visibility.js';
import { closeFailure, runsQuery, toRun, type Run } from './runs.js';

/** A run that failed for good and that nobody has retried or resolved since: shaped like a Run, plus its task. */
export interface DeadLetter extends Run {
  taskId: string;
  /** The handler's error type (an `Error`'s `name` or an ApplicationFailure's `type`). */
  errorType?: string;
}

export interface DeadLetterQuery {
  taskQueue: string;
  /** Only these tasks' runs (a task id filter, or the tasks carrying a tag). */
  taskIds?: readonly string[];
  /** Nominal time window, half-open [from, to). */
  from?: Date;
  to?: Date;
  errorType?: string;
  /** Only runs that failed before this instant. */
  closedBefore?: Date;
  /** Read each dead letter's message and error type from its close event (one call each); default true. */
  includeErrors?: boolean;
  pageSize?: number;
  pageToken?: string;
}

/** The run ids, of `refs`, that a completed `resolve` audit entry lists. */
async function resolvedKeys(client: Client, keys: readonly string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const query =
    `WorkflowType = '${workflowTypes.taskChange}' AND ExecutionStatus = 'Completed' AND ` +
    `${searchAttributeKeys.action.name} = 'resolve' AND ${searchAttributeKeys.runIds.name} IN ${quoteList(keys)}`;
  const { executions } = await listExecutions(client, query, { pageSize: 1000 });
  return new Set(executions.flatMap((e) => e.typedSearchAttributes.get(searchAttributeKeys.runIds) ?? []));
}

/** The newest run id of each workflow id. */
async function latestRuns(client: Client, workflowIds: readonly string[]): Promise<Map<string, string>> {
  const latest = new Map<string, { runId: string; at: number }>();
  if (!workflowIds.length) return new Map();
  const query = `WorkflowType = '${workflowTypes.runTask}' AND WorkflowId IN ${quoteList([...new Set(workflowIds)])}`;
  const { executions } = await listExecutions(client, query, { pageSize: 1000 });
  for (const execution of executions) {
    const at = execution.startTime.getTime();
    const known = latest.get(execution.workflowId);
    if (!known || at > known.at) latest.set(execution.workflowId, { runId: execution.runId, at });
  }
  return new Map([...latest].map(([id, { runId }]) => [id, runId]));
}

/**
 * A page of dead letters, the latest failure first: failed runs of the deployment's tasks, less those a later run of the same
 * fire superseded (a retry) and those resolved by hand. Filters on the error type apply after the page is read, so
 * a page may hold fewer than `pageSize` items while a `nextPageToken` says more may follow.
 */
export async function listDeadLetters(
  client: Client,
  query: DeadLetterQuery,
): Promise<{ items: DeadLetter[]; nextPageToken?: string }> {
  if (query.taskIds?.length === 0) return { items: [] };
  const { taskQueue, from, to, taskIds, closedBefore } = query;
  let visibility = runsQuery({ taskQueue }, { status: 'failed', from, to, ...(taskIds ? { taskIds } : {}) });
  if (closedBefore) visibility += ` AND CloseTime < ${quote(closedBefore.toISOString())}`;
  const page = await listExecutions(client, visibility, {
    pageSize: query.pageSize ?? 50,
    ...(query.pageToken ? { pageToken: query.pageToken } : {}),
  });
  const failed = page.executions.map((execution) => ({
    run: toRun(execution),
    taskId: execution.typedSearchAttributes.get(searchAttributeKeys.taskId) ?? '',
  }));
  const [latest, resolved] = await Promise.all([
    latestRuns(
      client,
      failed.map(({ run }) => run.workflowId),
    ),
    resolvedKeys(
      client,
      failed.map(({ run }) => runRefKey(run)),
    ),
  ]);
  const open = failed.filter(({ run }) => latest.get(run.workflowId) === run.runId && !resolved.has(runRefKey(run)));
  const withErrors = query.includeErrors !== false || query.errorType !== undefined;
  const items = await Promise.all(
    open.map(async ({ run, taskId }): Promise<DeadLetter> => {
      if (!withErrors) return { ...run, taskId };
      const { message, errorType } = await closeFailure(client, run);
      return { ...run, taskId, ...(message ? { error: message } : {}), ...(errorType ? { errorType } : {}) };
    }),
  );
  return {
    items: query.errorType ? items.filter((item) => item.errorType === query.errorType) : items,
    ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
  };
}

/**
 * A run of a task's fire (`runId` omitted: the fire's latest), with the task it belongs to; undefined when the
 * workflow is not a task run.
 */
export async function describeFireRun(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<{ taskId: string; description: WorkflowExecutionDescription } | undefined> {
  let description;
  try {
    description = await client.workflow.getHandle(workflowId, runId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  const taskId = description.typedSearchAttributes.get(searchAttributeKeys.taskId);
  return description.type === workflowTypes.runTask && taskId ? { taskId, description } : undefined;
}

/** A run as a retry or a resolve sees it; undefined when there is no such run of a task. */
export async function readFireRun(client: Client, ref: RunRef): Promise<FireRunView | undefined> {
  const found = await describeFireRun(client, ref.workflowId, ref.runId);
  if (!found) return undefined;
  const { taskId, description } = found;
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: ref,
    maximumPageSize: 1,
  });
  const [payload] = history.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  const input = defaultPayloadConverter.fromPayload<RunTaskInput>(payload ?? {});
  const run = toRun(description);
  const [latest, resolved] = await Promise.all([
    client.workflow.getHandle(ref.workflowId).describe(),
    resolvedKeys(client, [runRefKey(ref)]),
  ]);
  return {
    taskId,
    status: run.status,
    nominalTime: run.nominalTime,
    idempotencyKey: input.idempotencyKey ?? `${taskId}@${run.nominalTime}`,
    input,
    latestRunId: latest.runId,
    resolved: resolved.size > 0,
  };
}
