import type { MetricsExporterConfig } from '@temporalio/worker';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { z } from 'zod';

/**
 * `SURECRON_WORKER_METRICS_PORT`: where the worker serves `/metrics`; blank or unset disables the endpoint.
 * Shaped like the entries of `envSchema` in src/config.ts.
 */
export const workerMetricsPortSchema = z.preprocess(
  (value) => (typeof value === 'string' && value.trim() === '' ? undefined : value),
  z.coerce.number().int().min(1).max(65535).optional(),
);

/**
 * The `telemetryOptions.metrics` for `Runtime.install`: Temporal core serves its own Prometheus text at
 * `http://<bindAddress>/metrics`, with `_total` counters and durations in seconds, as prom-client does.
 * @param bindAddress `host:port`, e.g. `127.0.0.1:9465`; keep it internal, the worker endpoint re-exposes it.
 */
export function runtimeMetricsTelemetry(bindAddress: string): MetricsExporterConfig {
  if (!/^(\[[0-9a-fA-F:.]+\]|[^\s:/[\]]+):\d{1,5}$/.test(bindAddress)) {
    throw new RangeError(`runtime metrics bind address must be host:port, got ${JSON.stringify(bindAddress)}`);
  }
  return { prometheus: { bindAddress, countersTotalSuffix: true, useSecondsForDurations: true } };
}

/** The URL at which core serves what {@link runtimeMetricsTelemetry} configured (a wildcard host becomes loopback). */
export function runtimeMetricsUrl(bindAddress: string): string {
  const url = new URL(`http://${bindAddress}/metrics`);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.href;
}

export interface WorkerMetricsServerOptions {
  /** 0 picks a free port; see `url`. */
  port: number;
  host?: string;
  registry: Registry;
  /** Temporal core's Prometheus exporter, appended to ours on each scrape. */
  runtimeMetricsUrl?: string;
  /** How long a scrape waits for the runtime exporter. */
  runtimeTimeoutMs?: number;
}

export interface WorkerMetricsServer {
  /** `http://host:port/metrics`. */
  url: string;
  close(): Promise<void>;
}

const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return oneLine(String(error));
  const cause = error.cause instanceof Error ? error.cause : undefined;
  const code = cause && 'code' in cause ? String(cause.code) : undefined;
  if (error.name === 'TimeoutError') return 'timed out';
  return oneLine(cause ? `${error.message}: ${code ?? cause.message}` : error.message);
}

async function fetchRuntimeMetrics(url: string, timeoutMs: number): Promise<string> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) {
      await response.body?.cancel();
      return `# temporal runtime metrics unavailable: HTTP ${response.status}\n`;
    }
    const text = await response.text();
    return text === '' || text.endsWith('\n') ? text : `${text}\n`;
  } catch (error) {
    return `# temporal runtime metrics unavailable: ${describeError(error)}\n`;
  }
}

/**
 * Serves `GET /metrics` for the worker: the registry's metrics, then Temporal core's (if `runtimeMetricsUrl` is
 * set). If core's exporter cannot be read, ours are still served, with a comment saying why. Anything else is 404.
 */
export async function startWorkerMetricsServer(options: WorkerMetricsServerOptions): Promise<WorkerMetricsServer> {
  const { port, host = '127.0.0.1', registry, runtimeTimeoutMs = 2000 } = options;
  const runtimeUrl = options.runtimeMetricsUrl;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    const [ours, runtime] = await Promise.all([
      registry.metrics(),
      runtimeUrl ? fetchRuntimeMetrics(runtimeUrl, runtimeTimeoutMs) : Promise.resolve(''),
    ]);
    const body = ours === '' || ours.endsWith('\n') ? ours + runtime : `${ours}\n${runtime}`;
    response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
    response.end(request.method === 'HEAD' ? undefined : body);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      response.end(`metrics collection failed: ${describeError(error)}\n`);
    });
  });
  server.listen(port, host);
  await once(server, 'listening');
  const { port: bound } = server.address() as AddressInfo;
  const hostInUrl = host.includes(':') ? `[${host}]` : host;

  return {
    url: `http://${hostInUrl}:${bound}/metrics`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
