import pg from 'pg';
import { connectionOptions, type PostgresInstance } from './postgres.js';
import type { TemporalNode } from './temporal-nodes.js';

/** A heartbeat older than this means the service has left (the server heartbeats about every 10 s). */
const FRESH_SECONDS = 30;

/** Reads the cluster's membership, asked every few seconds: one pooled connection, not one login per read. */
export interface MembershipReader {
  /**
   * Which nodes have joined, read where the servers themselves meet: the `cluster_membership` table. A node has
   * joined when each of its four services has heartbeated there within the last 30 s.
   */
  joined(): Promise<string[]>;
  close(): Promise<void>;
}

export function membershipReader(postgres: PostgresInstance, nodes: readonly TemporalNode[]): MembershipReader {
  const pool = new pg.Pool({ ...connectionOptions(postgres, 'temporal'), max: 1 });
  // A connection PostgreSQL dropped (it was restarted) is replaced at the next read.
  pool.on('error', () => undefined);
  return {
    async joined() {
      const { rows } = await pool.query<{ rpc_port: number }>(
        `SELECT DISTINCT rpc_port FROM cluster_membership WHERE last_heartbeat > now() - make_interval(secs => $1)`,
        [FRESH_SECONDS],
      );
      const alive = new Set(rows.map((row) => Number(row.rpc_port)));
      return nodes.filter((node) => node.membershipPorts.every((port) => alive.has(port))).map((node) => node.name);
    },
    close: () => pool.end(),
  };
}
