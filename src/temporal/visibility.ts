import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { LoadedDataConverter } from '@temporalio/common';

/** A string literal for a visibility query. */
export const quote = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** One page of workflow executions matching a visibility query, with an opaque URL-safe page token. */
export async function listExecutions(
  client: Client,
  query: string,
  { pageSize = 100, pageToken }: { pageSize?: number; pageToken?: string } = {},
): Promise<{ executions: WorkflowExecutionInfo[]; nextPageToken?: string }> {
  const response = await client.workflowService.listWorkflowExecutions({
    namespace: client.options.namespace,
    query,
    pageSize,
    nextPageToken: pageToken ? Buffer.from(pageToken, 'base64url') : undefined,
  });
  const dataConverter = (client.workflow as unknown as { dataConverter: LoadedDataConverter }).dataConverter;
  const executions = await Promise.all(
    response.executions.map((raw) => executionInfoFromRaw(raw, dataConverter, raw, client.options.namespace)),
  );
  const token = response.nextPageToken?.length ? Buffer.from(response.nextPageToken).toString('base64url') : undefined;
  return { executions, ...(token ? { nextPageToken: token } : {}) };
}
