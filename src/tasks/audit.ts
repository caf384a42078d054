import type { Client } from '@temporalio/client';
import { listExecutions, quote } from '../temporal/visibility.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import type { AuditItem, TaskAction } from './changes.js';
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

const beforeAfter = ({ before, after }: { before?: unknown; after?: unknown }) => ({
  ...(before !== undefined ? { before } : {}),
  ...(after !== undefined ? { after } : {}),
});

/**
 * The audit trail, newest first. Each entry is a completed `taskChange` workflow execution (or a backfill still
 * running its fires), read from Temporal's visibility store: durable, shared by every API instance, kept as long as
 * the namespace's retention. A batch entry (one execution that changed many tasks) yields one entry per task, each
 * with its own time; a page holds `pageSize` executions, so it may hold more entries than that.
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
  // A batch entry lists every task it touched in SurecronTaskIds; older entries carry only SurecronTaskId.
  if (query.taskId) {
    const id = quote(query.taskId);
    clauses.push(`(${searchAttributeKeys.taskIds.name} = ${id} OR ${searchAttributeKeys.taskId.name} = ${id})`);
  }
  // An entry's time lies between its execution's start and close: select by those, then keep exactly [from, to).
  if (query.from) clauses.push(`(CloseTime >= ${quote(query.from.toISOString())} OR ${running})`);
  if (query.to) clauses.push(`StartTime < ${quote(query.to.toISOString())}`);
  const page = await listExecutions(client, clauses.join(' AND '), query);
  const inWindow = (entry: AuditEntry): boolean =>
    (!query.from || Date.parse(entry.at) >= query.from.getTime()) &&
    (!query.to || Date.parse(entry.at) < query.to.getTime());
  const items = page.executions
    .flatMap((execution): AuditEntry[] => {
      const attributes = execution.typedSearchAttributes;
      const audit = execution.memo?.audit as
        { before?: unknown; after?: unknown; appliedAt?: string; items?: AuditItem[] } | undefined;
      const actor = attributes.get(searchAttributeKeys.actor) ?? 'unknown';
      const action = (attributes.get(searchAttributeKeys.action) ?? 'update') as TaskAction;
      // A batch entry: one entry per task it changed, each at its own write time, newest first like the trail.
      if (audit?.items) {
        return audit.items
          .filter((item) => !query.taskId || item.taskId === query.taskId)
          .map((item) => ({ at: item.at, actor, action, taskId: item.taskId, ...beforeAfter(item) }))
          .sort((a, b) => Date.parse(b.at) - Date.parse(a.at));
      }
      return [
        {
          at: audit?.appliedAt ?? (execution.closeTime ?? execution.startTime).toISOString(),
          actor,
          action,
          taskId: attributes.get(searchAttributeKeys.taskId) ?? '',
          ...beforeAfter(audit ?? {}),
        },
      ];
    })
    .filter(inWindow);
  return { items, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
}
