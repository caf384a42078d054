import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import {
  connectClient,
  ensureNamespace,
  ensureSearchAttributes,
  searchAttributesResolvable,
  waitForFrontend,
} from '../client.js';
import { resolveClusterBinaries, type ClusterBinaries } from '../temporal/server-tools.js';
import { freePort, portFree } from '../util/ports.js';
import { waitFor } from '../util/wait.js';
import { loadBalancerProcess } from './load-balancer.js';
import { membershipReader, type MembershipReader } from './membership.js';
import {
  findPostgresBin,
  postgresProcess,
  preparePostgres,
  waitForPostgres,
  type PostgresInstance,
} from './postgres.js';
import { killLeftovers, liveSupervisor, Supervisor } from './supervisor.js';
import { fixShardCount, nodeProcess, planNodes, setUpSchemas, type TemporalNode } from './temporal-nodes.js';

const HAPROXY = '/usr/sbin/haproxy';
const installScript = fileURLToPath(new URL('../../scripts/install-debian-packages.sh', import.meta.url));

function postgresPresent(): boolean {
  try {
    findPostgresBin();
    return true;
  } catch {
    return false;
  }
}

/**
 * HAProxy and PostgreSQL come from Debian: when one is missing, `scripts/install-debian-packages.sh` installs it
 * (as root, with apt-get) or says which `apt-get` line to run.
 * @throws {ClusterSetupError} when they are still missing afterwards.
 */
function ensureDebianPackages(logger: Logger): void {
  if (existsSync(HAPROXY) && postgresPresent()) return;
  logger.info('installing HAProxy and PostgreSQL from Debian (first time only)');
  const result = spawnSync('bash', [installScript, 'haproxy', 'postgresql'], { encoding: 'utf8' });
  if (existsSync(HAPROXY) && postgresPresent()) return;
  throw new ClusterSetupError(
    `HAProxy and PostgreSQL are needed and could not be installed: ${(result.stderr || result.stdout).trim().split('\n').join(' | ')}`,
  );
}

/** Thrown when something the cluster needs is missing; the message says how to get it. */
export class ClusterSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ClusterSetupError';
  }
}

/** What `startTemporalCluster` needs. */
export interface TemporalClusterOptions {
  /** The cluster's own folder: PostgreSQL's data, logs, generated configs. */
  dataDir: string;
  /** Where the supervisor keeps the process list (`<data dir>/cluster.json`). */
  clusterFile: string;
  nodes: number;
  shards: number;
  /** The load balancer's port on 127.0.0.1. */
  port: number;
  namespace: string;
  retentionDays: number;
  logger: Logger;
  /** Further ports the cluster will listen on (env var name, port): checked free before anything starts. */
  otherPorts?: readonly (readonly [string, number])[];
}

/** A running Temporal cluster: PostgreSQL, the server nodes and the load balancer in front of them. */
export interface TemporalCluster {
  /** The load balancer: what every client connects to. */
  address: string;
  nodes: readonly TemporalNode[];
  postgres: PostgresInstance;
  supervisor: Supervisor;
  binaries: ClusterBinaries;
  /** Nodes whose four services heartbeat in the membership table now. */
  joined(): Promise<string[]>;
  /** Stops every supervised process, the last started first. */
  stop(): Promise<void>;
}

/**
 * Starts a real Temporal cluster on this machine, every process supervised: PostgreSQL (made on first use, schemas
 * set up idempotently), `nodes` Temporal server nodes with all four services each, finding each other through the
 * database, and HAProxy in front of their frontends on `port`, with the namespace and surecron's search attributes
 * registered. The membership of the nodes is kept current in `cluster.json` (`members`).
 * @throws {ClusterSetupError} (or a setup error of PostgreSQL, the schema tool or a binary) saying what is missing.
 */
export async function startTemporalCluster(options: TemporalClusterOptions): Promise<TemporalCluster> {
  const { dataDir, clusterFile, logger, namespace } = options;
  const logs = join(dataDir, 'logs');
  mkdirSync(logs, { recursive: true });
  const running = liveSupervisor(clusterFile);
  if (running)
    throw new ClusterSetupError(
      `a cluster is already running on this data dir (supervisor pid ${running}): stop it first`,
    );
  for (const [name, port] of [['TEMPORAL_PORT', options.port], ...(options.otherPorts ?? [])] as const)
    if (!(await portFree(port))) throw new ClusterSetupError(`${name}=${port} is taken by another process`);
  const leftovers = killLeftovers(clusterFile);
  if (leftovers.length) logger.warn({ processes: leftovers }, 'killed what an earlier cluster left running');

  ensureDebianPackages(logger);
  const binaries = await resolveClusterBinaries({ onProgress: (line) => logger.info(line) });
  const shards = fixShardCount(dataDir, options.shards);
  const postgres = preparePostgres(dataDir, await freePort());
  const supervisor = new Supervisor(clusterFile, logger);
  supervisor.annotate({ supervisor: process.pid });
  let membership: NodeJS.Timeout | undefined;
  let members: MembershipReader | undefined;
  const stop = async (): Promise<void> => {
    clearInterval(membership);
    await members?.close();
    await supervisor.stop();
  };
  try {
    supervisor.start(postgresProcess(postgres, join(logs, 'postgres.log')));
    await waitForPostgres(postgres, 60_000);
    await setUpSchemas(binaries.sqlTool, postgres);

    const nodes = await planNodes(options.nodes, postgres, shards);
    // One node after the other: nodes starting together race to write the cluster metadata, and the losers exit.
    const frontend = (node: TemporalNode): string => `${node.host}:${node.frontendPort}`;
    const startNode = (node: TemporalNode): void =>
      supervisor.start(nodeProcess(node, binaries.server, join(logs, `${node.name}.log`)));
    for (const node of nodes) {
      startNode(node);
      await waitForFrontend(frontend(node), 120_000);
    }
    const reader = membershipReader(postgres, nodes);
    members = reader;
    const joined = (): Promise<string[]> => reader.joined();
    const reportMembers = async (): Promise<void> => {
      // A node killed a moment ago still looks fresh in the table for up to 30 s: only running ones count.
      const names = (await joined().catch(() => [])).filter((name) => supervisor.pid(name) !== undefined);
      supervisor.annotate({
        members: { expected: nodes.length, joined: names, checkedAt: new Date().toISOString() },
      });
    };
    membership = setInterval(() => void reportMembers(), 2_000);

    const address = `127.0.0.1:${options.port}`;
    supervisor.start(
      loadBalancerProcess(
        address,
        nodes.map((node) => ({ name: node.name, address: frontend(node) })),
        join(dataDir, 'haproxy.cfg'),
        join(logs, 'haproxy.log'),
      ),
    );
    await waitForFrontend(address, 30_000);
    await ensureNamespace(address, namespace, options.retentionDays);
    const admin = await connectClient({ address, namespace });
    // Registered through whichever frontend the balancer picks, which may not know the new namespace yet.
    await waitFor(
      async () => (await ensureSearchAttributes(admin), true),
      60_000,
      `surecron's search attributes registered in ${namespace}`,
    ).finally(() => admin.connection.close());
    // A new namespace and its search attributes reach each frontend's cache a moment later: until then a worker
    // there fails and a task created there is refused. The probe needs both, so it waits for both.
    for (const node of nodes) {
      const direct = await connectClient({ address: frontend(node), namespace });
      await waitFor(
        async () => ((await searchAttributesResolvable(direct)) ? true : undefined),
        60_000,
        `surecron's search attributes on ${node.name}`,
      ).finally(() => direct.connection.close());
    }
    await reportMembers();
    return { address, nodes, postgres, supervisor, binaries, joined, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
