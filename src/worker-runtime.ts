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
import { registerSecrets } from './logger.js';
import { installRuntimeLogger } from './temporal/runtime-logger.js';

/** Signing secrets, passwords and the secret query values of webhook URLs (WeCom keys, DingTalk tokens). */
function alertSecrets(config: AlertsConfig): string[] {
  return config.channels.flatMap((channel) => {
    const values: string[] = [];
    if ('secret' in channel && channel.secret) values.push(channel.secret);
    if ('pass' in channel && channel.pass) values.push(channel.pass);
    if ('url' in channel) {
      const url = new URL(channel.url);
      for (const key of ['key', 'access_token', 'token', 'sign']) {
        const value = url.searchParams.get(key);
        if (value) values.push(value);
      }
      if (channel.type === 'slack') values.push(url.pathname);
    }
    return values;
  });
}

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
  registerSecrets(config.SURECRON_CALLBACK_SECRET, config.SURECRON_ALERT_WEBHOOK_SECRET, ...alertSecrets(alerts));
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
    host: config.SURECRON_WORKER_METRICS_HOST,
    registry: metrics.registry,
    runtimeMetricsUrl: runtimeMetricsUrl(runtimeBind),
  });
  logger.info({ url: metricsServer.url, channels: alerts.channels.map((c) => c.name) }, 'worker metrics endpoint up');
  return { alerts, metrics, metricsServer };
}
