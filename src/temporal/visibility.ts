import { WorkflowClient, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { withWorkflowServiceCall } from '../client.js';

/** A string literal for a visibility query. */
export const quote = (value: string): string => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** A parenthesised list of quoted literals, for `IN`. */
export const quoteList = (values: readonly string[]): string => `(${values.map(quote).join(', ')})`;

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

/**
 * One page of workflow executions matching a visibility query, with an opaque URL-safe page token. The SDK's
 * `WorkflowClient.list` decodes the executions; it pages on its own, so its one request here starts at the
 * caller's token and its response ends the listing after this page.
 * @throws {InvalidPageTokenError} for a token this API did not hand out.
 */
export async function listExecutions(
  client: Client,
  query: string,
  { pageSize = 100, pageToken }: { pageSize?: number; pageToken?: string } = {},
): Promise<{ executions: WorkflowExecutionInfo[]; nextPageToken?: string }> {
  const { connection } = client;
  const { namespace, identity, loadedDataConverter } = client.options;
  let next: Uint8Array | null | undefined;
  const executions = await withPageToken(pageToken, (nextPageToken) =>
    withWorkflowServiceCall(
      connection,
      'listWorkflowExecutions',
      async (request) => {
        const response = await connection.workflowService.listWorkflowExecutions({ ...request, nextPageToken });
        next = response.nextPageToken;
        response.nextPageToken = new Uint8Array();
        return response;
      },
      async (onePage) => {
        const workflows = new WorkflowClient({
          connection: onePage,
          namespace,
          identity,
          dataConverter: loadedDataConverter,
        });
        const page: WorkflowExecutionInfo[] = [];
        for await (const execution of workflows.list({ query, pageSize })) page.push(execution);
        return page;
      },
    ),
  );
  const token = encodePageToken(next);
  return { executions, ...(token ? { nextPageToken: token } : {}) };
}

/** Every item of a paged listing, page after page. */
export async function allPages<T>(
  page: (token?: string) => Promise<{ items: T[]; nextPageToken?: string }>,
): Promise<T[]> {
  const all: T[] = [];
  let token: string | undefined;
  do {
    const result = await page(token);
    all.push(...result.items);
    token = result.nextPageToken;
  } while (token);
  return all;
}

/**
 * Every running workflow of `workflowType` on `taskQueue`, each answering `query` (a worker of the task queue runs
 * the queries): the state of the deployment's shared workflows, such as task groups and circuit breakers.
 */
export async function queryRunning<T>(
  client: Client,
  { workflowType, taskQueue, query }: { workflowType: string; taskQueue: string; query: string },
): Promise<T[]> {
  const visibility = `WorkflowType = ${quote(workflowType)} AND ExecutionStatus = 'Running' AND TaskQueue = ${quote(taskQueue)}`;
  const executions = await allPages(async (pageToken) => {
    const page = await listExecutions(client, visibility, { pageToken });
    return { items: page.executions, ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}) };
  });
  return Promise.all(executions.map((execution) => client.workflow.getHandle(execution.workflowId).query<T>(query)));
}
