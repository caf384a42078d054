import type { Client } from '@temporalio/client';
import { listExecutions, quote } from '../temporal/visibility.js';
import { searchAttributeKeys } from '../workflows/search-attributes.js';
import type { TaskAction } from './changes.js';
import { TASK_CHANGE_WORKFLOW } from './service.js';

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
 * The audit trail, newest first. Each entry is a completed `taskChange` workflow execution, read from Temporal's
 * visibility store: durable, shared by every API instance, kept as long as the namespace's retention.
 */
export async function listAudit(
  client: Client,
  query: AuditQuery = {},
): Promise<{ items: AuditEntry[]; nextPageToken?: string }> {
  const clauses = [`WorkflowType = '${TASK_CHANGE_WORKFLOW}'`, `ExecutionStatus = 'Completed'`];
  if (query.taskQueue) clauses.push(`TaskQueue = ${quote(query.taskQueue)}`);
  if (query.taskId) clauses.push(`${searchAttributeKeys.taskId.name} = ${quote(query.taskId)}`);
  if (query.from) clauses.push(`CloseTime >= ${quote(query.from.toISOString())}`);
  if (query.to) clauses.push(`CloseTime < ${quote(query.to.toISOString())}`);
  const page = await listExecutions(client, clauses.join(' AND '), query);
  const items = page.executions.map((execution): AuditEntry => {
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
  });
  return { items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
}
