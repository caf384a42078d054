import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  dynamicConfigFile,
  serverArgs,
  serverPortsEnv,
  serverServices as services,
  type ServerService,
} from '../temporal/server-config.js';
import type { PostgresInstance } from './postgres.js';
import type { ProcessSpec } from './supervisor.js';

export { dynamicConfigFile, SERVER_CONFIG_ENV, serverConfigDir } from '../temporal/server-config.js';

/** The databases Temporal uses and the server's embedded schema of each. */
export const temporalDatabases = [
  { name: 'temporal', schema: 'postgresql/v12/temporal' },
  { name: 'temporal_visibility', schema: 'postgresql/v12/visibility' },
] as const;

/** One Temporal server node: all four services in one process, on its own ports of one loopback address. */
export interface TemporalNode {
  name: string;
  host: string;
  /** Frontend gRPC port: what the load balancer forwards to. */
  frontendPort: number;
  /** gRPC port of each service, keyed by role as the membership table stores it. */
  servicePorts: Record<'frontend' | 'history' | 'matching' | 'worker', number>;
  /** Membership (ringpop) port of each service: what the cluster_membership table records. */
  membershipPorts: number[];
  env: Record<string, string>;
}

/** Thrown when the schema tool fails or the data dir was made with another shard count. */
export class TemporalSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemporalSetupError';
  }
}

/**
 * The shard count is fixed when the database is first set up: it is kept in the data dir, and asking for another
 * one later is refused here, before the server would refuse it less clearly.
 */
export function fixShardCount(dataDir: string, requested: number): number {
  const file = join(dataDir, 'cluster-shards');
  if (!existsSync(file)) {
    writeFileSync(file, `${requested}\n`);
    return requested;
  }
  const fixed = Number(readFileSync(file, 'utf8').trim());
  if (fixed !== requested)
    throw new TemporalSetupError(
      `SURECRON_CLUSTER_SHARDS=${requested}, but this data dir was set up with ${fixed} history shards, fixed at ` +
        'first start: keep it, or start with a new SURECRON_DATA_DIR',
    );
  return fixed;
}

/**
 * Plans `count` nodes: free ports for every service's gRPC and membership (below 32768: the membership table keeps
 * ports in a smallint), and each node's environment.
 */
export async function planNodes(count: number, postgres: PostgresInstance, shards: number): Promise<TemporalNode[]> {
  const nodes: TemporalNode[] = [];
  const taken = new Set<number>();
  for (let index = 1; index <= count; index += 1) {
    const host = '127.0.0.1';
    const env: Record<string, string> = {
      POSTGRES_SEEDS: postgres.host,
      DB_PORT: String(postgres.port),
      POSTGRES_USER: postgres.user,
      POSTGRES_PWD: postgres.password,
      NUM_HISTORY_SHARDS: String(shards),
      BIND_ON_IP: host,
      TEMPORAL_BROADCAST_ADDRESS: host,
      DYNAMIC_CONFIG_FILE_PATH: dynamicConfigFile,
      LOG_LEVEL: 'warn',
      ...(await serverPortsEnv(taken)),
    };
    const grpc = (service: ServerService): number => Number(env[`${service}_GRPC_PORT`]);
    nodes.push({
      name: `temporal-${index}`,
      host,
      frontendPort: grpc('FRONTEND'),
      servicePorts: {
        frontend: grpc('FRONTEND'),
        history: grpc('HISTORY'),
        matching: grpc('MATCHING'),
        worker: grpc('WORKER'),
      },
      membershipPorts: services.map((service) => Number(env[`${service}_MEMBERSHIP_PORT`])),
      env,
    });
  }
  return nodes;
}

/** The supervised server process of one node. */
export function nodeProcess(node: TemporalNode, serverBinary: string, logFile: string): ProcessSpec {
  return {
    role: 'temporal',
    name: node.name,
    address: `${node.host}:${node.frontendPort}`,
    command: serverBinary,
    args: serverArgs(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/', ...node.env },
    logFile,
    stopTimeoutMs: 20_000,
  };
}

function runSqlTool(sqlTool: string, postgres: PostgresInstance, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      sqlTool,
      ['--plugin', 'postgres12', '--ep', postgres.host, '-p', String(postgres.port), '-u', postgres.user, ...args],
      // The password goes through the environment, never the command line (which `ps` shows).
      { env: { PATH: process.env.PATH ?? '', SQL_PASSWORD: postgres.password }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code === 0) resolve(output);
      else
        reject(
          new TemporalSetupError(
            `temporal-sql-tool ${args.slice(2).join(' ')} failed (${code}): ${output.trim().split('\n').slice(-3).join(' | ')}`,
          ),
        );
    });
  });
}

/**
 * Creates Temporal's two databases and brings their schemas to the server's version with the server's own schema
 * tool. Every step is idempotent: on a second start it finds the databases and schemas there and changes nothing.
 * @throws {TemporalSetupError} with the tool's last lines when a step fails.
 */
export async function setUpSchemas(sqlTool: string, postgres: PostgresInstance): Promise<void> {
  for (const { name, schema } of temporalDatabases) {
    await runSqlTool(sqlTool, postgres, ['--db', name, 'create-database']);
    await runSqlTool(sqlTool, postgres, ['--db', name, 'setup-schema', '-v', '0.0']);
    await runSqlTool(sqlTool, postgres, ['--db', name, 'update-schema', '--schema-name', schema]);
  }
}
