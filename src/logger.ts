import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

/** Paths whose values never reach a log line. */
export const redactPaths = [
  'authorization',
  'token',
  'apiToken',
  '*.authorization',
  '*.Authorization',
  '*.token',
  '*.apiToken',
  'req.headers.authorization',
  'headers.authorization',
  'headers.Authorization',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'pass',
  '*.pass',
];

const knownSecrets = new Set<string>();

/**
 * Registers secret values (tokens, signing secrets, secret header values) that must never appear in a log line,
 * wherever they turn up: a field, an error message, a stack. Values shorter than 8 characters are ignored.
 */
export function registerSecrets(...values: (string | undefined)[]): void {
  for (const value of values) if (value && value.length >= 8) knownSecrets.add(value);
}

/** Replaces every registered secret in a serialized log line. */
export function scrubSecrets(line: string): string {
  let scrubbed = line;
  for (const secret of knownSecrets)
    if (scrubbed.includes(secret)) scrubbed = scrubbed.split(secret).join('[redacted]');
  return scrubbed;
}

export interface LoggerSettings {
  level?: string;
  format?: 'json' | 'pretty' | 'auto';
  /** Where JSON lines go (default stdout); tests capture them. */
  destination?: DestinationStream;
}

/**
 * The one root logger of a surecron process. JSON by default, pretty when stdout is an interactive terminal
 * (or when asked), with secrets redacted.
 */
export function createLogger({ level = 'info', format = 'auto', destination }: LoggerSettings = {}): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const options: LoggerOptions = {
    level,
    base: { service: 'surecron' },
    redact: { paths: redactPaths, censor: '[redacted]' },
    hooks: { streamWrite: scrubSecrets },
  };
  if (pretty) {
    options.transport = {
      target: 'pino-pretty',
      options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
    };
  }
  return destination && !pretty ? pino(options, destination) : pino(options);
}
