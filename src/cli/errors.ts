/** A mistake in how the CLI was called (bad option, invalid file): exit 2, nothing sent. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One field error of an API problem. */
export interface FieldError {
  path: string;
  message: string;
}

/** An `application/problem+json` answer (or any other non-2xx response): exit 1. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly errors: FieldError[] = [],
  ) {
    super(`${status} ${title}: ${detail}`);
  }
}

/** The API could not be reached (refused, DNS, timeout): exit 1. */
export class ConnectionError extends Error {
  override name = 'ConnectionError';
}

/** The user declined a confirmation: exit 1, nothing sent. */
export class CancelledError extends Error {
  override name = 'CancelledError';
}

const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();

/** Field errors the detail does not already spell out, as `path: message; …`. */
function extraFieldErrors(error: ApiError): string {
  const missing = error.errors
    .map((e) => (e.path ? `${e.path}: ${e.message}` : e.message))
    .filter((text) => !error.detail.includes(text));
  return missing.length ? ` (${missing.join('; ')})` : '';
}

/** The single stderr line and exit code for any error; never a stack trace. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof UsageError) return { message: oneLine(error.message), exitCode: 2 };
  if (error instanceof ApiError) return { message: oneLine(error.message + extraFieldErrors(error)), exitCode: 1 };
  if (error instanceof ConnectionError || error instanceof CancelledError)
    return { message: oneLine(error.message), exitCode: 1 };
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return { message: `unexpected error: ${oneLine(message)}`, exitCode: 1 };
}
