import { pino, type Logger, type LoggerOptions } from 'pino';

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
];

export interface LoggerSettings {
  level?: string;
  format?: 'json' | 'pretty' | 'auto';
}

/**
 * The one root logger of a surecron process. JSON by default, pretty when stdout is an interactive terminal
 * (or when asked), with secrets redacted.
 */
export function createLogger({ level = 'info', format = 'auto' }: LoggerSettings = {}): Logger {
  const pretty = format === 'pretty' || (format === 'auto' && process.stdout.isTTY === true);
  const options: LoggerOptions = {
    level,
    base: { service: 'surecron' },
    redact: { paths: redactPaths, censor: '[redacted]' },
  };
  if (pretty) {
    options.transport = {
      target: 'pino-pretty',
      options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service' },
    };
  }
  return pino(options);
}
