import type { Client } from '@temporalio/client';
import { listExecutions, quote } from '../temporal/visibility.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import type { TaskAction } from './changes.js';
import { workflowTypes } from '../contract/workflow-types.js';

/** One entry of the audit trail. */
export interface AuditEntry {
  /** When the change took effect. */
  at: string;
  actor: string;
  action: TaskAction;
  taskId: string;
  before?: unknown;
  after?: unknown;
}

export interface AuditQuery {
  taskId?: string;
  /** Half-open window [from, to) on `at`. */
  from?: Date;
  to?: Date;
  pageSize?: number;
  pageToken?: string;
  /** Only changes made by one deployment (its task queue). */
  taskQueue?: string;
}

/**
 * The audit trail, newest first. Each entry is a completed `taskChange` workflow execution (or a backfill still
 * running its fires), read from Temporal's visibility store: durable, shared by every API instance, kept as long as
 * the namespace's retention.
 */
export async function listAudit(
  client: Client,
  query: AuditQuery = {},
): Promise<{ items: AuditEntry[]; nextPageToken?: string }> {
  // A backfill is in the trail from the moment it is accepted, not only once its last run has ended.
  const running = `ExecutionStatus = 'Running'`;
  const clauses = [
    `WorkflowType = '${workflowTypes.taskChange}'`,
    `(ExecutionStatus = 'Completed' OR (${searchAttributeKeys.action.name} = 'backfill' AND ${running}))`,
  ];
  if (query.taskQueue) clauses.push(`TaskQueue = ${quote(query.taskQueue)}`);
  if (query.taskId) clauses.push(`${searchAttributeKeys.taskId.name} = ${quote(query.taskId)}`);
  // An entry's time lies between its execution's start and close: select by those, then keep exactly [from, to).
  if (query.from) clauses.push(`(CloseTime >= ${quote(query.from.toISOString())} OR ${running})`);
  if (query.to) clauses.push(`StartTime < ${quote(query.to.toISOString())}`);
  const page = await listExecutions(client, clauses.join(' AND '), query);
  const inWindow = (entry: AuditEntry): boolean =>
    (!query.from || Date.parse(entry.at) >= query.from.getTime()) &&
    (!query.to || Date.parse(entry.at) < query.to.getTime());
  const items = page.executions
    .map((execution): AuditEntry => {
      const attributes = execution.typedSearchAttributes;
      const audit = execution.memo?.audit as { before?: unknown; after?: unknown; appliedAt?: string } | undefined;
      return {
        at: audit?.appliedAt ?? (execution.closeTime ?? execution.startTime).toISOString(),
        actor: attributes.get(searchAttributeKeys.actor) ?? 'unknown',
        action: (attributes.get(searchAttributeKeys.action) ?? 'update') as TaskAction,
        taskId: attributes.get(searchAttributeKeys.taskId) ?? '',
        ...(audit?.before !== undefined ? { before: audit.before } : {}),
        ...(audit?.after !== undefined ? { after: audit.after } : {}),
      };
    })
    .filter(inWindow);
  return { items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
}
