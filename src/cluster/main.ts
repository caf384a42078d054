import { ConfigError, loadConfig } from '../config.js';
import { tokenOrigin } from '../api/token.js';
import { createLogger } from '../logger.js';
import { ClusterBinaryNotFoundError } from '../temporal/server-tools.js';
import { onShutdownSignal } from '../util/shutdown.js';
import { WaitTimeoutError } from '../util/wait.js';
import { startCluster } from './cluster.js';
import { ClusterSetupError } from './temporal-cluster.js';
import { PostgresSetupError } from './postgres.js';
import { TemporalSetupError } from './temporal-nodes.js';

/**
 * `npm run cluster`: surecron on a real Temporal cluster on this machine, in the foreground like `npm start`.
 * Prints where everything is; Ctrl-C or SIGTERM stops every process, the API first and PostgreSQL last.
 */
async function main(): Promise<void> {
  const started = Date.now();
  const config = loadConfig();
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const cluster = await startCluster(config, logger);
  const byRole = (role: string): string[] =>
    cluster.supervisor
      .entries()
      .filter((entry) => entry.role === role)
      .map((entry) => `${entry.name} ${entry.address} (pid ${entry.pid})`);
  const namespace = config.TEMPORAL_NAMESPACE;
  const lines = [
    '',
    `surecron is running on a ${cluster.nodes.length}-node Temporal cluster (ready in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
    `  API        ${cluster.apiUrl}   (ready: ${cluster.apiUrl}/readyz)`,
    `  API docs   ${cluster.apiUrl}/docs`,
    `  Web UI     ${cluster.uiUrl}/namespaces/${namespace}/schedules`,
    `  Temporal   ${cluster.address} (HAProxy) → ${cluster.nodes.map((node) => `${node.host}:${node.frontendPort}`).join(', ')}`,
    ...byRole('temporal').map((line) => `    node     ${line}`),
    `  PostgreSQL ${cluster.postgres.host}:${cluster.postgres.port}, data in ${cluster.postgres.dataDir}`,
    ...byRole('worker').map((line) => `  worker     ${line}`),
    `  API token  ${tokenOrigin(cluster.token)}`,
    `  processes  ${cluster.clusterFile}; logs in ${cluster.dataDir}/logs`,
    '  Ctrl-C to stop',
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  await new Promise<void>((resolve) =>
    onShutdownSignal(async () => {
      logger.info('shutting down the cluster: API, workers, Web UI, load balancer, nodes, PostgreSQL');
      await cluster.stop();
      logger.info('stopped');
      resolve();
    }),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    const known = [
      ConfigError,
      ClusterSetupError,
      ClusterBinaryNotFoundError,
      PostgresSetupError,
      TemporalSetupError,
      WaitTimeoutError,
    ].some((type) => error instanceof type);
    process.stderr.write(
      `surecron cluster: ${known ? (error as Error).message : ((error as Error).stack ?? String(error))}\n`,
    );
    process.exit(1);
  },
);
