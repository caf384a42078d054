import type { LogLevel, LogMetadata, Logger as TemporalLogger } from '@temporalio/common';
import { Runtime, type MetricsExporterConfig } from '@temporalio/worker';
import type { Logger } from 'pino';

/** A Temporal SDK logger that drops everything (bundler and replay output nobody reads). */
export const silentSdkLogger: TemporalLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/** Adapts pino to Temporal's Logger interface, so SDK, core and workflow logs go through surecron's logger. */
export function temporalLogger(logger: Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata): void => {
    logger[levels[level]]({ ...meta, component: meta?.sdkComponent ?? 'temporal' }, message);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}

let installed = false;

/**
 * Installs the pino adapter as the Temporal Runtime logger, with core (Rust) logs forwarded to it too; once per
 * process, before any worker exists. surecron handles shutdown signals itself, so the worker drains before the
 * server stops.
 */
export function installRuntimeLogger(logger: Logger, metrics?: MetricsExporterConfig): void {
  if (installed) return;
  Runtime.install({
    logger: temporalLogger(logger),
    shutdownSignals: [],
    telemetryOptions: {
      logging: { forward: {}, filter: { core: 'WARN', other: 'ERROR' } },
      ...(metrics ? { metrics } : {}),
    },
  });
  installed = true;
}
