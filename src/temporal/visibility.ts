import type { Client, WorkflowExecutionInfo } from '@temporalio/client';
import { executionInfoFromRaw } from '@temporalio/client/lib/helpers.js';
import type { LoadedDataConverter } from '@temporalio/common';

/** A string literal for a visibility query. */
export const quote = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** Thrown for a page token this API did not hand out. */
export class InvalidPageTokenError extends Error {
  constructor() {
    super('invalid page token');
    this.name = 'InvalidPageTokenError';
  }
}

/** Temporal's visibility page tokens are JSON; anything else is refused before it reaches the server. */
function decodePageToken(token: string): Buffer {
  const bytes = Buffer.from(token, 'base64url');
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (parsed && typeof parsed === 'object') return bytes;
  } catch {
    // fall through
  }
  throw new InvalidPageTokenError();
}

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
    nextPageToken: pageToken ? decodePageToken(pageToken) : undefined,
  });
  const dataConverter = (client.workflow as unknown as { dataConverter: LoadedDataConverter }).dataConverter;
  const executions = await Promise.all(
    response.executions.map((raw) => executionInfoFromRaw(raw, dataConverter, raw, client.options.namespace)),
  );
  const token = response.nextPageToken?.length ? Buffer.from(response.nextPageToken).toString('base64url') : undefined;
  return { executions, ...(token ? { nextPageToken: token } : {}) };
}
