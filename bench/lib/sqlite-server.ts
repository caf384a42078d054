/**
 * The Temporal server binary on SQLite, as an embedded server `bench:ceiling` measures against the CLI's dev server:
 * all four services in one process, on the cluster's template (`deploy/temporal/surecron.yaml` with the
 * `surecron_sqlite.yaml` overlay), a SQLite file each for workflow state and visibility.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  connectClient,
  ensureNamespace,
  ensureSearchAttributes,
  searchAttributesResolvable,
  waitForFrontend,
} from '../../src/client.js';
import type { DevServer } from '../../src/temporal/dev-server.js';
import { dynamicConfigFile, serverArgs, serverPortsEnv, SQLITE_ZONE } from '../../src/temporal/server-config.js';
import { spawnServerProcess, untilReady } from '../../src/temporal/server-process.js';
import { waitFor } from '../../src/util/wait.js';

export interface SqliteServerOptions {
  /** The Temporal server binary (`go.temporal.io/server/cmd/server`). */
  server: string;
  /** The server's folder: its SQLite files, log and pid file. */
  dir: string;
  port: number;
  namespace: string;
  retentionDays: number;
  shards: number;
  /** Visibility's SQLite file: default its own; the workflow state's file → one connection for both, as the dev server. */
  visibilityDb?: string;
  /** SQLite's `synchronous` pragma: `full` (default, an fsync per commit, as the dev server); `normal` none. */
  synchronous?: 'full' | 'normal';
}

/** Registers the namespace and surecron's search attributes, and waits until the frontend resolves them. */
async function prepareNamespace(address: string, namespace: string, retentionDays: number): Promise<void> {
  await ensureNamespace(address, namespace, retentionDays);
  const client = await connectClient({ address, namespace });
  try {
    // A new namespace reaches the frontend's cache a moment after its registration.
    await waitFor(async () => (await ensureSearchAttributes(client), true), 60_000, `namespace ${namespace}`);
    await waitFor(
      async () => ((await searchAttributesResolvable(client)) ? true : undefined),
      60_000,
      `surecron's search attributes in ${namespace}`,
    );
  } finally {
    await client.connection.close();
  }
}

/** Starts the server (the schemas made by the server itself in a new folder); resolves once the namespace is ready. */
export async function startSqliteServer(options: SqliteServerOptions): Promise<DevServer> {
  const ip = '127.0.0.1';
  mkdirSync(options.dir, { recursive: true });
  const address = `${ip}:${options.port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/',
    SQLITE_FILE: join(options.dir, 'temporal.db'),
    SQLITE_VISIBILITY_FILE: options.visibilityDb ?? join(options.dir, 'visibility.db'),
    SQLITE_SYNCHRONOUS: options.synchronous ?? 'full',
    NUM_HISTORY_SHARDS: String(options.shards),
    BIND_ON_IP: ip,
    TEMPORAL_BROADCAST_ADDRESS: ip,
    DYNAMIC_CONFIG_FILE_PATH: dynamicConfigFile,
    LOG_LEVEL: 'warn',
    ...(await serverPortsEnv(new Set([options.port]), options.port)),
  };
  const server = spawnServerProcess({
    title: 'Temporal server',
    command: options.server,
    args: serverArgs(SQLITE_ZONE),
    env,
    logFile: join(options.dir, 'temporal.log'),
    pidFile: join(options.dir, 'temporal.pid'),
    staleMarker: options.server,
  });
  await untilReady(server, waitForFrontend(address, 120_000));
  await untilReady(server, prepareNamespace(address, options.namespace, options.retentionDays));
  return { address, pid: server.pid, stop: () => server.stop() };
}
