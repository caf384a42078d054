import { Client, Connection, type ConnectionLike, type WorkflowService } from '@temporalio/client';
import { SearchAttributeType } from '@temporalio/common';
import proto from '@temporalio/proto';

const { temporal, google } = proto;
import { searchAttributeKeys } from './contract/search-attributes.js';

const { taskId, nominalTime, trigger, attempts, actor, action, taskIds, taskQueue, tags, runIds } = searchAttributeKeys;
/** surecron's own search attributes, registered in every namespace it uses. */
export const searchAttributes = {
  taskId,
  nominalTime,
  trigger,
  attempts,
  actor,
  action,
  taskIds,
  taskQueue,
  tags,
  runIds,
} as const;

const indexedValueType: Record<string, number> = {
  [SearchAttributeType.KEYWORD]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  [SearchAttributeType.DATETIME]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  [SearchAttributeType.INT]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  [SearchAttributeType.KEYWORD_LIST]: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

export interface TemporalTarget {
  address: string;
  namespace: string;
}

/** Opens a connection and a client for one namespace. */
export async function connectClient({ address, namespace }: TemporalTarget): Promise<Client> {
  const connection = await Connection.connect({ address });
  return new Client({ connection, namespace });
}

/** A workflow service call in its promise form (the generated service also has a callback form). */
type PromiseForm<F> = F extends (request: infer Q) => Promise<infer R> ? (request: Q) => Promise<R> : never;

/** The workflow service calls {@link withWorkflowServiceCall} can replace. */
export interface ReplaceableCalls {
  updateSchedule: PromiseForm<WorkflowService['updateSchedule']>;
  listWorkflowExecutions: PromiseForm<WorkflowService['listWorkflowExecutions']>;
}

/**
 * Runs `use` with `connection`, its workflow service's `name` call replaced by `replacement`, for an SDK client
 * built on it (`ScheduleClient`, `WorkflowClient`): the client's own request goes through the replacement, which
 * may amend the request and the response. Everything else is the connection's own: the other calls, deadlines,
 * metadata, abort signals. An error of the call is rethrown as the server gave it, not as the SDK wraps it.
 * @throws {Error} when `use` did not make the call exactly once: the SDK no longer goes through it.
 */
export async function withWorkflowServiceCall<K extends keyof ReplaceableCalls, T>(
  connection: ConnectionLike,
  name: K,
  replacement: ReplaceableCalls[K],
  use: (connection: ConnectionLike) => Promise<T>,
): Promise<T> {
  let calls = 0;
  let failure: { error: unknown } | undefined;
  const replace = replacement as (request: unknown) => Promise<unknown>;
  const call = async (request: unknown): Promise<unknown> => {
    calls += 1;
    try {
      return await replace(request);
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
  const workflowService = Object.assign(Object.create(connection.workflowService) as WorkflowService, {
    [name]: call,
  });
  const replaced: ConnectionLike = {
    workflowService,
    operatorService: connection.operatorService,
    plugins: connection.plugins,
    close: () => connection.close(),
    ensureConnected: () => connection.ensureConnected(),
    withDeadline: (deadline, fn) => connection.withDeadline(deadline, fn),
    withMetadata: (metadata, fn) => connection.withMetadata(metadata, fn),
    withAbortSignal: (signal, fn) => connection.withAbortSignal(signal, fn),
  };
  let result: T;
  try {
    result = await use(replaced);
  } catch (error) {
    throw failure ? failure.error : error;
  }
  if (calls !== 1) throw new Error(`expected the SDK to call ${name} once, it called it ${calls} times`);
  return result;
}

/** Resolves once a Temporal frontend answers at `address`, retrying until `timeoutMs`. */
export async function waitForFrontend(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return;
      } finally {
        await connection.close();
      }
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`Temporal at ${address} did not answer within ${timeoutMs} ms: ${(lastError as Error)?.message}`);
}

/**
 * Sets how long the namespace keeps closed workflows: runs, their histories and the audit trail, and so the
 * horizon of the run ledger. The dev server defaults to one day, too short for a proof.
 */
export async function ensureRetention(client: Client, days: number): Promise<void> {
  const { namespace } = client.options;
  const seconds = days * 86_400;
  const current = await client.workflowService.describeNamespace({ namespace });
  if (Number(current.config?.workflowExecutionRetentionTtl?.seconds ?? 0) === seconds) return;
  await client.workflowService.updateNamespace({
    namespace,
    config: { workflowExecutionRetentionTtl: google.protobuf.Duration.fromObject({ seconds }) },
  });
}

/** Registers the namespace if it is missing; a second start finds it. */
export async function ensureNamespace(address: string, namespace: string, retentionDays: number): Promise<void> {
  const client = await connectClient({ address, namespace });
  try {
    try {
      await client.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: google.protobuf.Duration.fromObject({
          seconds: retentionDays * 86_400,
        }),
      });
    } catch (error) {
      if (!/already exists|AlreadyExists/i.test((error as Error).message)) throw error;
    }
    await ensureRetention(client, retentionDays);
  } finally {
    await client.connection.close();
  }
}

/** Registers surecron's search attributes in the namespace if they are missing; safe to call from every process. */
export async function ensureSearchAttributes(client: Client): Promise<void> {
  const { namespace } = client.options;
  const operator = client.connection.operatorService;
  const existing = await operator.listSearchAttributes({ namespace });
  const missing: Record<string, number> = {};
  for (const key of Object.values(searchAttributes)) {
    if (!(key.name in (existing.customAttributes ?? {}))) {
      const type = indexedValueType[key.type];
      if (type === undefined) throw new Error(`no indexed value type for ${key.type}`);
      missing[key.name] = type;
    }
  }
  if (Object.keys(missing).length === 0) return;
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes: missing });
  } catch (error) {
    // Another process registered them first.
    if (!/already exists/i.test((error as Error).message)) throw error;
  }
}

const probeValue: Record<string, string> = {
  [SearchAttributeType.KEYWORD]: '"probe"',
  [SearchAttributeType.KEYWORD_LIST]: '"probe"',
  [SearchAttributeType.DATETIME]: '"2000-01-01T00:00:00Z"',
  [SearchAttributeType.INT]: '0',
};

/**
 * True once the frontend behind `client` resolves every surecron search attribute in visibility queries. On a
 * cluster each frontend learns of newly registered attributes from its namespace cache, a moment after the
 * registration: until then, creating a task there fails with "no mapping defined for search attribute".
 */
export async function searchAttributesResolvable(client: Client): Promise<boolean> {
  const query = Object.values(searchAttributes)
    .map((key) => `${key.name} = ${probeValue[key.type] ?? '"probe"'}`)
    .join(' AND ');
  try {
    await client.workflowService.countWorkflowExecutions({ namespace: client.options.namespace, query });
    return true;
  } catch (error) {
    if (/search attribute/i.test((error as Error).message)) return false;
    throw error;
  }
}
