import pg from 'pg';
import { connectionOptions, type PostgresInstance } from './postgres.js';
import type { TemporalNode } from './temporal-nodes.js';

/** A heartbeat older than this means the service has left (the server heartbeats about every 10 s). */
const FRESH_SECONDS = 30;

/**
 * Which nodes have joined the cluster, read where the servers themselves meet: the `cluster_membership` table. A
 * node has joined when each of its four services has heartbeated there within the last 30 s.
 */
export async function joinedNodes(postgres: PostgresInstance, nodes: readonly TemporalNode[]): Promise<string[]> {
  const client = new pg.Client(connectionOptions(postgres, 'temporal'));
  try {
    await client.connect();
    const { rows } = await client.query<{ rpc_port: number }>(
      `SELECT DISTINCT rpc_port FROM cluster_membership WHERE last_heartbeat > now() - make_interval(secs => $1)`,
      [FRESH_SECONDS],
    );
    const alive = new Set(rows.map((row) => Number(row.rpc_port)));
    return nodes.filter((node) => node.membershipPorts.every((port) => alive.has(port))).map((node) => node.name);
  } finally {
    await client.end().catch(() => undefined);
  }
}
