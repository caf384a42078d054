/** The embedded servers `bench:ceiling` compares, each started the way `npm start` starts it, on a temp dir. */
import { join } from 'node:path';
import { connectClient, ensureSearchAttributes } from '../../src/client.js';
import { resolveTemporalCli } from '../../src/temporal/cli.js';
import { startDevServer, type DevServer } from '../../src/temporal/dev-server.js';
import { resolveClusterBinaries } from '../../src/temporal/server-tools.js';
import { startSqliteServer } from './sqlite-server.js';
import { freePort } from '../../src/util/ports.js';

/**
 * `dev`: the CLI's dev server as src/temporal/dev-server.ts runs it (one shard, one SQLite file);
 * `server:<n>`: the Temporal server binary on SQLite (a file each for workflow state and visibility) with n shards,
 * as src/temporal/sqlite-server.ts runs it. Diagnostics, appended with `+`: `sync-normal` (SQLite's `synchronous`
 * NORMAL: no fsync per commit), `sa-cache` (dev only: the search attribute cache the CLI turns off), `one-file`
 * (server only: visibility in the workflow state's file, one connection for both, as the dev server has it).
 */
export interface EmbeddedKind {
  name: string;
  shards?: number;
  syncNormal: boolean;
  saCache: boolean;
  oneFile: boolean;
}

export function parseKind(text: string): EmbeddedKind {
  const [base = '', ...mods] = text.split('+');
  const unknown = mods.filter((mod) => !['sync-normal', 'sa-cache', 'one-file'].includes(mod));
  const shards = /^server:(\d+)$/.exec(base)?.[1];
  const misplaced = shards ? mods.includes('sa-cache') : mods.includes('one-file');
  if ((base !== 'dev' && !shards) || unknown.length || misplaced)
    throw new Error(`unknown kind ${text}: dev or server:<shards>, +sync-normal, dev+sa-cache, server:<n>+one-file`);
  return {
    name: text,
    ...(shards ? { shards: Number(shards) } : {}),
    syncNormal: mods.includes('sync-normal'),
    saCache: mods.includes('sa-cache'),
    oneFile: mods.includes('one-file'),
  };
}

export function kindLabel(kind: EmbeddedKind): string {
  const base = kind.shards
    ? `server 1.29.1, SQLite, ${kind.shards} shard${kind.shards === 1 ? '' : 's'}`
    : 'dev server (CLI 1.5.1, 1 shard)';
  const mods = [kind.syncNormal && 'synchronous NORMAL', kind.saCache && 'SA cache on', kind.oneFile && 'one file'];
  return [base, ...mods].filter(Boolean).join(', ');
}

/** Starts one kind on a free port in `dir`, with surecron's search attributes registered; `pid` is the server's. */
export async function startKind(kind: EmbeddedKind, dir: string): Promise<DevServer & { pid: number }> {
  const port = await freePort();
  let server: DevServer;
  if (kind.shards) {
    const { server: binary } = await resolveClusterBinaries();
    server = await startSqliteServer({
      server: binary,
      dir,
      port,
      namespace: 'default',
      retentionDays: 1,
      shards: kind.shards,
      ...(kind.syncNormal ? { synchronous: 'normal' as const } : {}),
      ...(kind.oneFile ? { visibilityDb: join(dir, 'temporal.db') } : {}),
    });
  } else {
    const executable = await resolveTemporalCli({ allowSdkDownload: false });
    server = await startDevServer({
      executable,
      dbFile: join(dir, 'temporal.db'),
      port,
      namespace: 'default',
      logFile: join(dir, 'temporal.log'),
      ...(kind.syncNormal ? { sqlitePragmas: { synchronous: 'normal' } } : {}),
      ...(kind.saCache ? { dynamicConfig: { 'system.forceSearchAttributesCacheRefreshOnRead': false } } : {}),
    });
    const client = await connectClient({ address: server.address, namespace: 'default' });
    await ensureSearchAttributes(client).finally(() => client.connection.close());
  }
  if (!server.pid) throw new Error(`${kind.name}: no server pid`);
  return { ...server, pid: server.pid, stop: () => server.stop() };
}
