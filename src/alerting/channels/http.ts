import { AlertDeliveryError } from './errors.js';
import { redactUrl } from './redact.js';

/** Options for one delivery. */
export interface DeliverOptions {
  /** fetch implementation (default: the global one). */
  fetch?: typeof globalThis.fetch;
  /** Abort and fail after this long, including reading the response (default 10 s). */
  timeoutMs?: number;
}

export const defaultTimeoutMs = 10_000;

/** Runs `work` with an abort signal, failing with AlertDeliveryError once `timeoutMs` elapses. */
export async function withTimeout<T>(
  channel: string,
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new AlertDeliveryError(channel, `timed out after ${timeoutMs} ms`);
      controller.abort(error);
      reject(error);
    }, timeoutMs);
  });
  try {
    return await Promise.race([work(controller.signal), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A short, single-line excerpt of a response body for error messages. */
export function excerpt(text: string, max = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function describe(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  if (typeof cause?.message === 'string') return cause.message;
  return error instanceof Error ? error.message : String(error);
}

/**
 * POSTs a JSON body and returns the response text.
 * @throws {AlertDeliveryError} on network failure, timeout or a non-2xx status; messages use the redacted URL.
 */
export async function postJson(
  channel: string,
  url: string,
  body: string,
  options: DeliverOptions,
  headers: Record<string, string> = {},
): Promise<string> {
  const doFetch = options.fetch ?? globalThis.fetch;
  return withTimeout(channel, options.timeoutMs ?? defaultTimeoutMs, async (signal) => {
    let response: Response;
    try {
      response = await doFetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': 'surecron', ...headers },
        body,
        signal,
        redirect: 'manual',
      });
    } catch (error) {
      throw new AlertDeliveryError(channel, `POST ${redactUrl(url)} failed: ${describe(error)}`, { cause: error });
    }
    const text = await response.text().catch(() => '');
    if (response.status < 200 || response.status > 299) {
      throw new AlertDeliveryError(
        channel,
        `POST ${redactUrl(url)} answered HTTP ${response.status}: ${excerpt(text)}`,
        {
          status: response.status,
        },
      );
    }
    return text;
  });
}

/**
 * WeCom and DingTalk answer HTTP 200 even on failure; success is `{ "errcode": 0 }`.
 * @throws {AlertDeliveryError} unless the body is JSON with errcode 0.
 */
export function requireErrcodeZero(channel: string, text: string): void {
  let reply: { errcode?: unknown; errmsg?: unknown };
  try {
    reply = JSON.parse(text) as typeof reply;
  } catch {
    throw new AlertDeliveryError(channel, `unexpected non-JSON response: ${excerpt(text)}`);
  }
  if (reply?.errcode !== 0) {
    const errmsg = typeof reply?.errmsg === 'string' ? reply.errmsg : 'no errmsg';
    throw new AlertDeliveryError(channel, `errcode ${String(reply?.errcode)}: ${errmsg}`);
  }
}
