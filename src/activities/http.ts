import { ApplicationFailure } from '@temporalio/activity';
import { Agent, fetch, type Response } from 'undici';
import { parseDuration } from '../tasks/duration.js';
import type { HandlerDef } from '../contract/run.js';
import { NonRetryableError, type HandlerContext } from './handler.js';
import {
  guardedLookup,
  HttpTargetRefusedError,
  systemResolver,
  type HostResolver,
  type HttpGuard,
} from '../security/http-guard.js';
import { registerSecrets } from '../logger.js';

export type { HttpGuard } from '../security/http-guard.js';

type HttpHandlerDef = Extract<HandlerDef, { type: 'http' }>;

const MAX_REDIRECTS = 5;
/** Dropped, with the headers marked secret, when a redirect leaves the origin (as browsers drop Authorization). */
const CREDENTIAL_HEADERS = new Set(['authorization', 'cookie', 'proxy-authorization']);
const MAX_RESPONSE_CHARS = 64 * 1024;
/** A response body is read up to this many bytes; a longer one aborts the request and fails the attempt. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;
/** Request headers (names and values, UTF-8) may total this many bytes; the spec schema refuses more at creation. */
export const MAX_REQUEST_HEADER_BYTES = 16 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;

/** Seconds or an HTTP date, as `Retry-After` allows; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const at = Date.parse(header);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function isExpected(status: number, expect: HttpHandlerDef['expectStatus']): boolean {
  if (expect === undefined) return status >= 200 && status < 300;
  return Array.isArray(expect) ? expect.includes(status) : status === expect;
}

/** Reads at most {@link MAX_RESPONSE_BYTES} of the body; beyond that, cancels it and fails non-retryably. */
async function readLimited(response: Response, abort: () => void): Promise<string> {
  const tooLarge = (): NonRetryableError => {
    abort();
    return new NonRetryableError(`response body larger than ${MAX_RESPONSE_BYTES} bytes`);
  };
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function readBody(response: Response, abort: () => void): Promise<unknown> {
  const text = (await readLimited(response, abort)).slice(0, MAX_RESPONSE_CHARS);
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

const agents = new WeakMap<HttpGuard, Map<HostResolver, Agent>>();

/**
 * The dispatcher of a guard: an undici Agent whose sockets connect only to addresses the guard checked after
 * resolution (see {@link guardedLookup}). One per guard and resolver, so connections are reused across runs.
 */
export function guardedAgent(guard: HttpGuard, resolve: HostResolver = systemResolver): Agent {
  let byResolver = agents.get(guard);
  if (!byResolver) agents.set(guard, (byResolver = new Map<HostResolver, Agent>()));
  let agent = byResolver.get(resolve);
  if (!agent) byResolver.set(resolve, (agent = new Agent({ connect: { lookup: guardedLookup(guard, resolve) } })));
  return agent;
}

function refusedCause(error: unknown): HttpTargetRefusedError | undefined {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; cause = cause.cause, depth++) {
    if (cause instanceof HttpTargetRefusedError) return cause;
  }
  return undefined;
}

export interface CallHttpOptions {
  /** Resolves host names (default `dns.lookup(host, { all: true })`); tests inject their own. */
  resolve?: HostResolver;
}

/**
 * The built-in `http` handler: one request per attempt, with an `Idempotency-Key` header. Success is
 * `expectStatus` (default any 2xx). Network errors, 5xx and 429 are retried (honouring `Retry-After`);
 * other statuses fail the run at once. Redirects are followed by hand so every hop passes the target guard, and
 * every connection goes through {@link guardedAgent}, so a host name resolving to a refused address (DNS
 * rebinding) is refused after resolution too. Bodies over 1 MiB and request headers over 16 KiB are refused.
 */
export async function callHttp(
  handler: HttpHandlerDef,
  context: HandlerContext,
  guard: HttpGuard,
  options: CallHttpOptions = {},
): Promise<unknown> {
  const secretNames = new Set((handler.secretHeaders ?? []).map((name) => name.toLowerCase()));
  registerSecrets(
    ...Object.entries(handler.headers ?? {})
      .filter(([name]) => secretNames.has(name.toLowerCase()))
      .map(([, value]) => value),
  );
  const timeoutMs = handler.timeout ? (parseDuration(handler.timeout) ?? DEFAULT_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  const bodyLimit = new AbortController();
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs), bodyLimit.signal]);
  const dispatcher = guardedAgent(guard, options.resolve);
  const headers: Record<string, string> = {
    'user-agent': 'surecron',
    'idempotency-key': context.idempotencyKey,
    ...handler.headers,
  };
  let body: string | undefined;
  if (handler.body !== undefined && handler.method !== 'GET' && handler.method !== 'HEAD') {
    if (typeof handler.body === 'string') body = handler.body;
    else {
      body = JSON.stringify(handler.body);
      headers['content-type'] ??= 'application/json';
    }
  }
  const headerBytes = Object.entries(headers).reduce(
    (sum, [name, value]) => sum + Buffer.byteLength(name) + Buffer.byteLength(value),
    0,
  );
  if (headerBytes > MAX_REQUEST_HEADER_BYTES) {
    throw new NonRetryableError(`request headers total ${headerBytes} bytes; at most ${MAX_REQUEST_HEADER_BYTES}`);
  }
  let url = handler.url;
  let method: string = handler.method;
  for (let hop = 0; ; hop++) {
    const refused = guard.refuse(url);
    if (refused) throw new NonRetryableError(`http target refused: ${refused}`);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, signal, redirect: 'manual', dispatcher });
    } catch (error) {
      const refusedAfterResolution = refusedCause(error);
      if (refusedAfterResolution) {
        throw new NonRetryableError(`http target refused: ${refusedAfterResolution.message}`);
      }
      const cause = (error as Error).cause;
      const reason = cause instanceof Error ? cause.message : (error as Error).message;
      throw new Error(`request to ${new URL(url).origin} failed: ${reason}`, { cause: error });
    }
    const location = response.headers.get('location');
    if (
      response.status >= 300 &&
      response.status < 400 &&
      location &&
      !isExpected(response.status, handler.expectStatus)
    ) {
      if (hop >= MAX_REDIRECTS) throw new NonRetryableError(`more than ${MAX_REDIRECTS} redirects`);
      const next = new URL(location, url);
      // Credentials are for the origin they were configured for, never for wherever it redirects to.
      if (next.origin !== new URL(url).origin) {
        for (const name of Object.keys(headers)) {
          const lower = name.toLowerCase();
          if (CREDENTIAL_HEADERS.has(lower) || secretNames.has(lower)) delete headers[name];
        }
      }
      url = next.toString();
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      await response.body?.cancel();
      continue;
    }
    const responseBody = await readBody(response, () => bodyLimit.abort(new Error('response body too large')));
    if (isExpected(response.status, handler.expectStatus)) return { status: response.status, body: responseBody };
    const message = `HTTP ${response.status} from ${new URL(url).origin}`;
    if (response.status >= 500 || response.status === 429) {
      throw ApplicationFailure.create({
        message,
        type: 'HttpRetryableStatus',
        details: [{ status: response.status }],
        nextRetryDelay: retryAfterMs(response.headers.get('retry-after')),
      });
    }
    throw ApplicationFailure.create({
      message,
      type: 'HttpStatus',
      nonRetryable: true,
      details: [{ status: response.status }],
    });
  }
}
