import { ApplicationFailure } from '@temporalio/activity';
import { parseDuration } from '../tasks/duration.js';
import type { HandlerDef } from '../tasks/spec.js';
import { NonRetryableError, type HandlerContext } from './handler.js';
import type { HttpGuard } from './http-guard.js';
import { registerSecrets } from '../logger.js';

export type { HttpGuard } from './http-guard.js';

type HttpHandlerDef = Extract<HandlerDef, { type: 'http' }>;

const MAX_REDIRECTS = 5;
const MAX_RESPONSE_CHARS = 64 * 1024;
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

async function readBody(response: Response): Promise<unknown> {
  const text = (await response.text()).slice(0, MAX_RESPONSE_CHARS);
  if ((response.headers.get('content-type') ?? '').includes('json')) {
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }
  return text;
}

/**
 * The built-in `http` handler: one request per attempt, with an `Idempotency-Key` header. Success is
 * `expectStatus` (default any 2xx). Network errors, 5xx, 408 and 429 are retried (honouring `Retry-After`);
 * other statuses fail the run at once. Redirects are followed by hand so every hop passes the target guard.
 */
export async function callHttp(handler: HttpHandlerDef, context: HandlerContext, guard: HttpGuard): Promise<unknown> {
  const secretNames = new Set((handler.secretHeaders ?? []).map((name) => name.toLowerCase()));
  registerSecrets(
    ...Object.entries(handler.headers ?? {})
      .filter(([name]) => secretNames.has(name.toLowerCase()))
      .map(([, value]) => value),
  );
  const timeoutMs = handler.timeout ? (parseDuration(handler.timeout) ?? DEFAULT_TIMEOUT_MS) : DEFAULT_TIMEOUT_MS;
  const signal = AbortSignal.any([context.signal, AbortSignal.timeout(timeoutMs)]);
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
  let url = handler.url;
  let method: string = handler.method;
  for (let hop = 0; ; hop++) {
    const refused = guard.refuse(url);
    if (refused) throw new NonRetryableError(`http target refused: ${refused}`);
    let response: Response;
    try {
      response = await fetch(url, { method, headers, body, signal, redirect: 'manual' });
    } catch (error) {
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
      url = new URL(location, url).toString();
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = 'GET';
        body = undefined;
      }
      await response.body?.cancel();
      continue;
    }
    const responseBody = await readBody(response);
    if (isExpected(response.status, handler.expectStatus)) return { status: response.status, body: responseBody };
    const message = `HTTP ${response.status} from ${new URL(url).origin}`;
    if (response.status >= 500 || response.status === 429 || response.status === 408) {
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
