import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { applyCodeTasks, openDeployment } from '../boot/deployment.js';
import { loadOrCreateToken } from '../api/token.js';
import { childEnv, type Config } from '../config.js';
import { temporalReadiness } from '../temporal/readiness.js';
import { writeWorkflowBundle } from '../boot/worker.js';
import { waitFor } from '../util/wait.js';
import { startTemporalCluster, type TemporalCluster } from './temporal-cluster.js';
import { webUiProcess } from './web-ui.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** surecron running on a local cluster. */
export interface Cluster extends TemporalCluster {
  apiUrl: string;
  uiUrl: string;
  token: { token: string; generated: boolean; path?: string };
  dataDir: string;
  clusterFile: string;
}

/**
 * Starts surecron on a real Temporal cluster on this machine (`startTemporalCluster`), then the Web UI on
 * `TEMPORAL_UI_PORT`, `SURECRON_CLUSTER_WORKERS` surecron workers, the tasks declared in code, and the API on
 * `SURECRON_API_PORT`, all supervised. A second start on the same data dir finds every schedule and all history
 * again.
 * @throws {ClusterSetupError} (or a setup error of PostgreSQL, the schema tool or a binary) saying what is missing.
 */
export async function startCluster(config: Config, logger: Logger): Promise<Cluster> {
  const dataDir = resolve(config.SURECRON_DATA_DIR, 'cluster');
  const logs = join(dataDir, 'logs');
  const clusterFile = join(resolve(config.SURECRON_DATA_DIR), 'cluster.json');
  const namespace = config.TEMPORAL_NAMESPACE;
  const temporal = await startTemporalCluster({
    dataDir,
    clusterFile,
    nodes: config.SURECRON_CLUSTER_NODES,
    shards: config.SURECRON_CLUSTER_SHARDS,
    port: config.TEMPORAL_PORT,
    namespace,
    retentionDays: config.SURECRON_RETENTION_DAYS,
    logger,
    otherPorts: [
      ['TEMPORAL_UI_PORT', config.TEMPORAL_UI_PORT],
      ['SURECRON_API_PORT', config.SURECRON_API_PORT],
    ],
  });
  const { address, supervisor, binaries } = temporal;
  try {
    const uiUrl = `http://127.0.0.1:${config.TEMPORAL_UI_PORT}`;
    supervisor.start(
      webUiProcess({
        binary: binaries.uiServer,
        temporalAddress: address,
        host: '127.0.0.1',
        port: config.TEMPORAL_UI_PORT,
        namespace,
        dir: join(dataDir, 'ui'),
        logFile: join(logs, 'web-ui.log'),
      }),
    );

    // One bundle for every worker.
    const bundlePath = join(dataDir, 'workflow-bundle.js');
    await writeWorkflowBundle(bundlePath);
    const surecronEnv = childEnv({
      ...config,
      TEMPORAL_ADDRESS: address,
      SURECRON_WORKFLOW_BUNDLE: bundlePath,
      SURECRON_LOG_FORMAT: 'json',
    });
    const tsx = ['--import', 'tsx'];
    for (let index = 1; index <= config.SURECRON_CLUSTER_WORKERS; index += 1) {
      const metricsPort = config.SURECRON_WORKER_METRICS_PORT;
      supervisor.start({
        role: 'worker',
        name: `worker-${index}`,
        address: metricsPort ? `http://127.0.0.1:${metricsPort + index - 1}/metrics` : config.SURECRON_TASK_QUEUE,
        command: process.execPath,
        args: [...tsx, join(repoRoot, 'src/worker.ts')],
        cwd: repoRoot,
        env: {
          ...surecronEnv,
          ...(metricsPort ? { SURECRON_WORKER_METRICS_PORT: String(metricsPort + index - 1) } : {}),
        },
        logFile: join(logs, `worker-${index}.log`),
        stopTimeoutMs: 50_000,
      });
    }

    const deployment = await openDeployment({ address, config, logger });
    try {
      // Tasks in code are applied by audited workflows, so only once a worker polls.
      const ready = temporalReadiness(deployment.client, config.SURECRON_TASK_QUEUE);
      await waitFor(async () => ((await ready()).ready ? true : undefined), 120_000, 'a worker polling');
      logger.info(await applyCodeTasks(deployment), 'tasks in code applied');
    } finally {
      await deployment.client.connection.close();
    }

    const token = loadOrCreateToken(resolve(config.SURECRON_DATA_DIR), config.SURECRON_API_TOKEN);
    const apiUrl = `http://${config.SURECRON_API_HOST}:${config.SURECRON_API_PORT}`;
    supervisor.start({
      role: 'api',
      name: 'api',
      address: apiUrl,
      command: process.execPath,
      args: [...tsx, join(repoRoot, 'src/api-server.ts')],
      cwd: repoRoot,
      env: { ...surecronEnv, SURECRON_API_TOKEN: token.token, SURECRON_CLUSTER_FILE: clusterFile },
      logFile: join(logs, 'api.log'),
    });
    await waitFor(
      async () => ((await fetch(`${apiUrl}/livez`, { signal: AbortSignal.timeout(2_000) })).ok ? true : undefined),
      60_000,
      'the API answering',
    );

    return {
      ...temporal,
      apiUrl,
      uiUrl,
      token,
      dataDir,
      clusterFile,
    };
  } catch (error) {
    await temporal.stop();
    throw error;
  }
}
