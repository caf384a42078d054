import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { listExecutions, quote, quoteList } from '../temporal/visibility.js';
import proto from '@temporalio/proto';

const { temporal } = proto;
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { formatInstant, type RunTrigger } from '../contract/run.js';
import { workflowTypes } from '../contract/workflow-types.js';

/** `dst_skipped`: a run the task's DST policy left out, ended at once without running the handler. */
export const runStatuses = [
  'running',
  'succeeded',
  'failed',
  'cancelled',
  'terminated',
  'timed_out',
  'dst_skipped',
] as const;
export type RunStatus = (typeof runStatuses)[number];

/** One run of a task: one `runTask` workflow execution. */
export interface Run {
  workflowId: string;
  runId: string;
  nominalTime: string;
  startedAt: string;
  closedAt?: string;
  status: RunStatus;
  attempts: number;
  error?: string;
  trigger: RunTrigger;
}

const statusByName: Record<string, RunStatus> = {
  RUNNING: 'running',
  COMPLETED: 'succeeded',
  FAILED: 'failed',
  CANCELLED: 'cancelled',
  TERMINATED: 'terminated',
  TIMED_OUT: 'timed_out',
  CONTINUED_AS_NEW: 'succeeded',
};

const attempts = searchAttributeKeys.attempts.name;
/** The visibility clause selecting runs of a status; a DST skip is a completed run with 0 attempts. */
const statusClause: Record<RunStatus, string> = {
  running: `ExecutionStatus = 'Running'`,
  succeeded: `ExecutionStatus = 'Completed' AND (${attempts} IS NULL OR ${attempts} != 0)`,
  failed: `ExecutionStatus = 'Failed'`,
  cancelled: `ExecutionStatus = 'Canceled'`,
  terminated: `ExecutionStatus = 'Terminated'`,
  timed_out: `ExecutionStatus = 'TimedOut'`,
  dst_skipped: `ExecutionStatus = 'Completed' AND ${attempts} = 0`,
};

export interface RunQuery {
  status?: RunStatus;
  /** Nominal time window, half-open [from, to). */
  from?: Date;
  to?: Date;
  pageSize?: number;
  pageToken?: string;
  /** Read each failed run's error from its history (one extra call per failed run); default true. */
  includeErrors?: boolean;
  /** Runs whose nominal time is in [from, to) or that were running at some instant of it. */
  activeIn?: { from: Date; to: Date };
  /** With a task queue: only these tasks' runs (an empty list selects none). */
  taskIds?: readonly string[];
}

/** The visibility query selecting a task's runs, or with `taskQueue` every run of a deployment. */
export function runsQuery(taskId: string | { taskQueue: string }, query: RunQuery = {}): string {
  const clauses = [
    typeof taskId === 'string'
      ? `${searchAttributeKeys.taskId.name} = ${quote(taskId)}`
      : `TaskQueue = ${quote(taskId.taskQueue)}`,
    `WorkflowType = '${workflowTypes.runTask}'`,
  ];
  if (query.status) clauses.push(statusClause[query.status]);
  if (query.taskIds)
    clauses.push(
      query.taskIds.length ? `${searchAttributeKeys.taskId.name} IN ${quoteList(query.taskIds)}` : "WorkflowId = ''",
    );
  // A scheduled run gets SurecronNominalTime when it first executes; until a worker picks it up, only the
  // server's TemporalScheduledStartTime tells its nominal time.
  const nominal = (op: string, at: Date): string =>
    `(${searchAttributeKeys.nominalTime.name} ${op} ${quote(at.toISOString())} OR ${searchAttributeKeys.scheduledStartTime.name} ${op} ${quote(at.toISOString())})`;
  if (query.from) clauses.push(nominal('>=', query.from));
  if (query.to) clauses.push(nominal('<', query.to));
  if (query.activeIn) {
    const { from, to } = query.activeIn;
    const since = quote(from.toISOString());
    const until = quote(to.toISOString());
    clauses.push(
      `((${nominal('>=', from)} AND ${nominal('<', to)}) OR ` +
        `(StartTime < ${until} AND (CloseTime >= ${since} OR ExecutionStatus = 'Running')))`,
    );
  }
  return clauses.join(' AND ');
}

/**
 * How a run ended badly, from its close event: the message (a failure's, a timeout's, a termination's reason) and,
 * for a failed run, the handler's error type (the `cause` the run's `TaskRunFailed` failure carries).
 */
export async function closeFailure(
  client: Client,
  execution: { workflowId: string; runId: string },
): Promise<{ message?: string; errorType?: string }> {
  const history = await client.workflowService.getWorkflowExecutionHistory({
    namespace: client.options.namespace,
    execution: { workflowId: execution.workflowId, runId: execution.runId },
    historyEventFilterType: temporal.api.enums.v1.HistoryEventFilterType.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT,
  });
  const event = history.history?.events?.[0];
  const failure = event?.workflowExecutionFailedEventAttributes?.failure;
  const message =
    failure?.message ??
    (event?.workflowExecutionTimedOutEventAttributes ? 'run timed out' : undefined) ??
    event?.workflowExecutionTerminatedEventAttributes?.reason ??
    undefined;
  const [detail] = failure?.applicationFailureInfo?.details?.payloads ?? [];
  const cause = detail
    ? defaultPayloadConverter.fromPayload<{ cause?: unknown } | undefined>(detail)?.cause
    : undefined;
  return { ...(message ? { message } : {}), ...(typeof cause === 'string' ? { errorType: cause } : {}) };
}

/** Maps a workflow execution to a Run. */
export function toRun(execution: Omit<WorkflowExecutionInfo, 'raw'>): Run {
  const attributes = execution.typedSearchAttributes;
  const nominal =
    attributes.get(searchAttributeKeys.nominalTime) ??
    attributes.get(searchAttributeKeys.scheduledStartTime) ??
    execution.startTime;
  const attempted = attributes.get(searchAttributeKeys.attempts);
  const status = statusByName[execution.status.name] ?? 'running';
  return {
    workflowId: execution.workflowId,
    runId: execution.runId,
    nominalTime: formatInstant(nominal),
    startedAt: execution.startTime.toISOString(),
    ...(execution.closeTime ? { closedAt: execution.closeTime.toISOString() } : {}),
    status: status === 'succeeded' && attempted === 0 ? 'dst_skipped' : status,
    attempts: attempted ?? (execution.status.name === 'RUNNING' ? 0 : 1),
    trigger: (attributes.get(searchAttributeKeys.trigger) as RunTrigger | undefined) ?? 'schedule',
  };
}

/** A page of a task's runs, newest first, from Temporal's visibility store. */
export async function listRuns(
  client: Client,
  taskId: string,
  query: RunQuery = {},
): Promise<{ items: Run[]; nextPageToken?: string }> {
  const page = await listExecutions(client, runsQuery(taskId, query), {
    pageSize: query.pageSize ?? 50,
    pageToken: query.pageToken,
  });
  const items = await Promise.all(
    page.executions.map(async (execution) => {
      const run = toRun(execution);
      if (
        query.includeErrors !== false &&
        (run.status === 'failed' || run.status === 'timed_out' || run.status === 'terminated')
      ) {
        const { message } = await closeFailure(client, execution);
        if (message) run.error = message;
      }
      return run;
    }),
  );
  return { items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
}

/**
 * Every run of a deployment (its task queue) with a nominal time in [from, to) or running at some instant of it,
 * by task id.
 */
export async function listDeploymentRuns(
  client: Client,
  taskQueue: string,
  window: { from: Date; to: Date },
): Promise<Map<string, Run[]>> {
  const byTask = new Map<string, Run[]>();
  const query = runsQuery({ taskQueue }, { activeIn: window });
  let pageToken: string | undefined;
  do {
    const page = await listExecutions(client, query, { pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
    for (const execution of page.executions) {
      const taskId = execution.typedSearchAttributes.get(searchAttributeKeys.taskId);
      if (taskId === undefined) continue;
      const runs = byTask.get(taskId) ?? [];
      runs.push(toRun(execution));
      byTask.set(taskId, runs);
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return byTask;
}
