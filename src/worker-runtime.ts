import type { Logger } from 'pino';
import { loadChannels } from './alerting/channels/index.js';
import type { AlertsConfig } from './alerting/channels/config.js';
import type { Config } from './config.js';
import { createTaskMetrics, type TaskMetrics } from './metrics/task-metrics.js';
import {
  runtimeMetricsTelemetry,
  runtimeMetricsUrl,
  startWorkerMetricsServer,
  type WorkerMetricsServer,
} from './metrics/worker-endpoint.js';
import { installRuntimeLogger } from './temporal/runtime-logger.js';

export interface WorkerRuntime {
  alerts: AlertsConfig;
  metrics: TaskMetrics;
  metricsServer?: WorkerMetricsServer;
}

/**
 * What every worker process sets up before its worker: the Temporal Runtime (pino logs; core metrics on an
 * internal port when the metrics endpoint is on), surecron's task metrics and their endpoint on
 * `SURECRON_WORKER_METRICS_PORT`, and the alert channels.
 * @throws {AlertConfigError} when the alerts file or env is invalid.
 */
export async function setUpWorkerRuntime(config: Config, logger: Logger): Promise<WorkerRuntime> {
  const alerts = loadChannels(config.SURECRON_ALERTS_FILE, process.env);
  const metrics = createTaskMetrics();
  const port = config.SURECRON_WORKER_METRICS_PORT;
  // Temporal's own exporter binds next to ours; our endpoint serves both on one scrape.
  const runtimeBind = port ? `127.0.0.1:${port + 1}` : undefined;
  installRuntimeLogger(
    logger.child({ component: 'temporal' }),
    runtimeBind ? runtimeMetricsTelemetry(runtimeBind) : undefined,
  );
  if (!port || !runtimeBind) return { alerts, metrics };
  const metricsServer = await startWorkerMetricsServer({
    port,
    registry: metrics.registry,
    runtimeMetricsUrl: runtimeMetricsUrl(runtimeBind),
  });
  logger.info({ url: metricsServer.url, channels: alerts.channels.map((c) => c.name) }, 'worker metrics endpoint up');
  return { alerts, metrics, metricsServer };
}
