import { bundleWorkflowCode } from '@temporalio/worker';
import { msToTs } from '@temporalio/common/lib/time.js';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { applyCodeTasks } from '../apply.js';
import { loadOrCreateToken } from '../api/token.js';
import { connectClient, ensureRetention, ensureSearchAttributes, waitForFrontend } from '../client.js';
import type { Config } from '../config.js';
import { resolveClusterBinaries } from '../temporal/server-tools.js';
import { freePort } from '../util/ports.js';
import { workflowsPath } from '../worker.js';
import { loadBalancerProcess } from './load-balancer.js';
import { joinedNodes } from './membership.js';
import { postgresProcess, preparePostgres, waitForPostgres, type PostgresInstance } from './postgres.js';
import { killLeftovers, Supervisor, type ClusterProcessEntry } from './supervisor.js';
import { fixShardCount, nodeProcess, planNodes, setUpSchemas, type TemporalNode } from './temporal-nodes.js';
import { webUiProcess } from './web-ui.js';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const HAPROXY = '/usr/sbin/haproxy';

/** Thrown when something the cluster needs is missing; the message says how to get it. */
export class ClusterSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterSetupError';
  }
}

/** What `startCluster` needs from surecron's configuration. */
export type ClusterConfig = Pick<
  Config,
  | 'SURECRON_DATA_DIR'
  | 'SURECRON_CLUSTER_NODES'
  | 'SURECRON_CLUSTER_WORKERS'
  | 'SURECRON_CLUSTER_SHARDS'
  | 'SURECRON_API_HOST'
  | 'SURECRON_API_PORT'
  | 'SURECRON_API_TOKEN'
  | 'SURECRON_RETENTION_DAYS'
  | 'SURECRON_TASK_QUEUE'
  | 'SURECRON_HTTP_ALLOWLIST'
  | 'SURECRON_WORKER_METRICS_PORT'
  | 'TEMPORAL_NAMESPACE'
  | 'TEMPORAL_PORT'
  | 'TEMPORAL_UI_PORT'
>;

/** A running local cluster. */
export interface Cluster {
  /** The load balancer: what every client connects to. */
  address: string;
  apiUrl: string;
  uiUrl: string;
  token: { token: string; generated: boolean; path?: string };
  dataDir: string;
  clusterFile: string;
  nodes: readonly TemporalNode[];
  postgres: PostgresInstance;
  supervisor: Supervisor;
  processes(): ClusterProcessEntry[];
  /** Nodes whose four services heartbeat in the membership table now. */
  joined(): Promise<string[]>;
  /** Stops everything, the API first and PostgreSQL last. */
  stop(): Promise<void>;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((done) => setTimeout(done, 500));
  }
  throw new ClusterSetupError(
    `${what} did not happen within ${timeoutMs / 1000} s${lastError ? `: ${(lastError as Error).message}` : ''}`,
  );
}

/** Registers the namespace if it is missing; a second start finds it. */
async function ensureNamespace(address: string, namespace: string, retentionDays: number): Promise<void> {
  const client = await connectClient({ address, namespace });
  try {
    try {
      await client.workflowService.registerNamespace({
        namespace,
        workflowExecutionRetentionPeriod: msToTs(retentionDays * 86_400_000),
      });
    } catch (error) {
      if (!/already exists|AlreadyExists/i.test((error as Error).message)) throw error;
    }
    await ensureRetention(client, retentionDays);
  } finally {
    await client.connection.close();
  }
}

/** Resolves once `address` (one node's frontend, or the load balancer) knows the namespace. */
async function namespaceVisible(address: string, namespace: string): Promise<true | undefined> {
  const client = await connectClient({ address, namespace });
  try {
    await client.workflowService.describeNamespace({ namespace });
    return true;
  } finally {
    await client.connection.close();
  }
}

/**
 * Starts surecron on a real Temporal cluster on this machine, every process supervised: PostgreSQL (made on first
 * use), `SURECRON_CLUSTER_NODES` Temporal server nodes with all four services each, finding each other through the
 * database, HAProxy in front of their frontends on `TEMPORAL_PORT`, the Web UI on `TEMPORAL_UI_PORT`,
 * `SURECRON_CLUSTER_WORKERS` surecron workers and the API on `SURECRON_API_PORT`. A second start on the same data
 * dir finds every schedule and all history again.
 * @throws {ClusterSetupError} (or a setup error of PostgreSQL, the schema tool or a binary) saying what is missing.
 */
export async function startCluster(config: ClusterConfig, logger: Logger): Promise<Cluster> {
  const dataDir = resolve(config.SURECRON_DATA_DIR, 'cluster');
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const clusterFile = join(resolve(config.SURECRON_DATA_DIR), 'cluster.json');
  const leftovers = killLeftovers(clusterFile);
  if (leftovers.length) logger.warn({ processes: leftovers }, 'killed what an earlier cluster left running');

  if (!existsSync(HAPROXY))
    throw new ClusterSetupError(`HAProxy not found at ${HAPROXY}: install it with \`apt-get install -y haproxy\``);
  const binaries = await resolveClusterBinaries({ onProgress: (line) => logger.info(line) });
  const shards = fixShardCount(dataDir, config.SURECRON_CLUSTER_SHARDS);
  const postgres = preparePostgres(dataDir, await freePort());
  const supervisor = new Supervisor(clusterFile, logger);
  const namespace = config.TEMPORAL_NAMESPACE;
  let membership: NodeJS.Timeout | undefined;

  const stop = async (): Promise<void> => {
    clearInterval(membership);
    await supervisor.stop();
  };
  try {
    supervisor.start(postgresProcess(postgres, join(logs, 'postgres.log')));
    await waitForPostgres(postgres, 60_000);
    await setUpSchemas(binaries.sqlTool, postgres);

    const nodes = await planNodes(config.SURECRON_CLUSTER_NODES, postgres, shards);
    // The first node alone first: nodes starting together race to write the cluster metadata, and the losers exit.
    const frontend = (node: TemporalNode): string => `${node.host}:${node.frontendPort}`;
    const startNode = (node: TemporalNode): void =>
      supervisor.start(nodeProcess(node, binaries.server, join(logs, `${node.name}.log`)));
    const [first, ...others] = nodes;
    if (!first) throw new ClusterSetupError('SURECRON_CLUSTER_NODES must be at least 1');
    startNode(first);
    await waitForFrontend(frontend(first), 120_000);
    others.forEach(startNode);
    const joined = (): Promise<string[]> => joinedNodes(postgres, nodes);
    const reportMembers = async (): Promise<void> => {
      const names = await joined().catch(() => []);
      supervisor.annotate({
        members: { expected: nodes.length, joined: names, checkedAt: new Date().toISOString() },
      });
    };
    membership = setInterval(() => void reportMembers(), 2_000);
    await Promise.all(others.map((node) => waitForFrontend(frontend(node), 120_000)));

    const address = `127.0.0.1:${config.TEMPORAL_PORT}`;
    supervisor.start(
      loadBalancerProcess(
        address,
        nodes.map((node) => ({ name: node.name, address: `${node.host}:${node.frontendPort}` })),
        join(dataDir, 'haproxy.cfg'),
        join(logs, 'haproxy.log'),
      ),
    );
    await waitForFrontend(address, 30_000);
    await ensureNamespace(address, namespace, config.SURECRON_RETENTION_DAYS);
    // A new namespace reaches each frontend's cache within seconds; workers started before would fail.
    for (const node of nodes)
      await waitFor(`namespace ${namespace} on ${node.name}`, 60_000, () =>
        namespaceVisible(`${node.host}:${node.frontendPort}`, namespace),
      );
    const admin = await connectClient({ address, namespace });
    await ensureSearchAttributes(admin).finally(() => admin.connection.close());

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

    // One bundle for every worker: each then starts in seconds instead of bundling the workflows itself.
    const bundlePath = join(dataDir, 'workflow-bundle.js');
    const bundle = await bundleWorkflowCode({
      workflowsPath,
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    writeFileSync(bundlePath, bundle.code);
    const surecronEnv: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      TEMPORAL_NAMESPACE: namespace,
      SURECRON_TASK_QUEUE: config.SURECRON_TASK_QUEUE,
      SURECRON_WORKFLOW_BUNDLE: bundlePath,
      SURECRON_LOG_FORMAT: 'json',
    };
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
          SURECRON_WORKER_METRICS_PORT: metricsPort ? String(metricsPort + index - 1) : '',
        },
        logFile: join(logs, `worker-${index}.log`),
        stopTimeoutMs: 50_000,
      });
    }

    const admin2 = await connectClient({ address, namespace });
    try {
      await waitFor('a worker polling', 120_000, async () => {
        const { pollers } = await admin2.workflowService.describeTaskQueue({
          namespace,
          taskQueue: { name: config.SURECRON_TASK_QUEUE },
        });
        return pollers.length > 0 ? true : undefined;
      });
      logger.info(await applyCodeTasks(admin2, config), 'tasks in code applied');
    } finally {
      await admin2.connection.close();
    }

    const token = loadOrCreateToken(resolve(config.SURECRON_DATA_DIR), config.SURECRON_API_TOKEN);
    const apiUrl = `http://${config.SURECRON_API_HOST}:${config.SURECRON_API_PORT}`;
    supervisor.start({
      role: 'api',
      name: 'api',
      address: apiUrl,
      command: process.execPath,
      args: [...tsx, join(repoRoot, 'src/api/server.ts')],
      cwd: repoRoot,
      env: { ...surecronEnv, SURECRON_API_TOKEN: token.token, SURECRON_CLUSTER_FILE: clusterFile },
      logFile: join(logs, 'api.log'),
    });
    await reportMembers();
    await waitFor('the API answering', 60_000, async () => ((await fetch(`${apiUrl}/livez`)).ok ? true : undefined));

    return {
      address,
      apiUrl,
      uiUrl,
      token,
      dataDir,
      clusterFile,
      nodes,
      postgres,
      supervisor,
      processes: () => supervisor.entries(),
      joined,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
