import { ApiError, ConnectionError, type FieldError, UsageError } from './errors.js';

/** Query parameters; undefined values are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
}

/** A decoded response: status and parsed JSON body (undefined when empty). */
export interface ApiResponse<T> {
  status: number;
  body: T;
}

const timeoutMs = 30_000;

/** Percent-encodes one path segment (task ids, job ids). */
export const segment = (value: string): string => encodeURIComponent(value);

function parseBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`invalid API URL "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new UsageError(`invalid API URL "${url}": must be http(s)`);
  }
  return parsed.href.replace(/\/+$/, '');
}

const reasons: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host lookup failed',
  ETIMEDOUT: 'connection timed out',
};

function networkReason(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return `no answer within ${timeoutMs / 1000}s`;
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code) return reasons[cause.code] ?? cause.code;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function isFieldErrors(value: unknown): value is FieldError[] {
  return Array.isArray(value) && value.every((e) => typeof (e as FieldError | null)?.message === 'string');
}

/** Turns a non-2xx response into an ApiError, reading problem details when the server sent them. */
async function toApiError(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let problem: Record<string, unknown> = {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') problem = parsed as Record<string, unknown>;
  } catch {
    // not JSON: fall back to the status line and the raw text
  }
  const title = typeof problem.title === 'string' ? problem.title : response.statusText || 'Error';
  const detail =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof problem.message === 'string'
        ? problem.message
        : text.slice(0, 200) || 'no detail';
  const errors = isFieldErrors(problem.errors) ? problem.errors : [];
  return new ApiError(response.status, title, detail, errors);
}

/** A thin client for the surecron REST API: bearer auth, JSON in and out, problem details as errors. */
export class ApiClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly token?: string,
  ) {
    this.base = parseBaseUrl(url);
  }

  /** Sends one request; resolves on 2xx, rejects with ApiError or ConnectionError otherwise. */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = new URL(this.base + path);
    for (const [key, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new ConnectionError(`cannot reach ${this.base}: ${networkReason(error)}`);
    }
    if (!response.ok) throw await toApiError(response);
    const text = await response.text();
    try {
      return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
    } catch {
      throw new ApiError(response.status, 'Bad response', `${method} ${path} answered with invalid JSON`);
    }
  }
}
