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
export function decodePageToken(token: string): Buffer {
  const bytes = Buffer.from(token, 'base64url');
  try {
    const parsed: unknown = JSON.parse(bytes.toString('utf8'));
    if (parsed && typeof parsed === 'object') return bytes;
  } catch {
    // fall through
  }
  throw new InvalidPageTokenError();
}

/** A server page token as the URL-safe string the API hands out; undefined on the last page. */
export function encodePageToken(token: Uint8Array | null | undefined): string | undefined {
  return token?.length ? Buffer.from(token).toString('base64url') : undefined;
}

/** Runs a paged visibility call; a token the server itself rejects is an {@link InvalidPageTokenError} too. */
export async function withPageToken<T>(
  pageToken: string | undefined,
  call: (token?: Buffer) => Promise<T>,
): Promise<T> {
  const token = pageToken ? decodePageToken(pageToken) : undefined;
  try {
    return await call(token);
  } catch (error) {
    if (token && (error as { code?: number }).code === 3) throw new InvalidPageTokenError();
    throw error;
  }
}

/** One page of workflow executions matching a visibility query, with an opaque URL-safe page token. */
export async function listExecutions(
  client: Client,
  query: string,
  { pageSize = 100, pageToken }: { pageSize?: number; pageToken?: string } = {},
): Promise<{ executions: WorkflowExecutionInfo[]; nextPageToken?: string }> {
  const response = await withPageToken(pageToken, (nextPageToken) =>
    client.workflowService.listWorkflowExecutions({
      namespace: client.options.namespace,
      query,
      pageSize,
      nextPageToken,
    }),
  );
  const dataConverter = (client.workflow as unknown as { dataConverter: LoadedDataConverter }).dataConverter;
  const executions = await Promise.all(
    response.executions.map((raw) => executionInfoFromRaw(raw, dataConverter, raw, client.options.namespace)),
  );
  const token = encodePageToken(response.nextPageToken);
  return { executions, ...(token ? { nextPageToken: token } : {}) };
}
