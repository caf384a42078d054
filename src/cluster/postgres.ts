import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import pg from 'pg';
import { isExecutable } from '../temporal/go-tool.js';
import { waitFor } from '../util/wait.js';
import type { ProcessSpec } from './supervisor.js';

/** Thrown when PostgreSQL cannot be found or set up; the message says what to do. */
export class PostgresSetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresSetupError';
  }
}

/** The database superuser surecron's cluster connects as. */
export const POSTGRES_USER = 'temporal';

/** A PostgreSQL data directory of the cluster and how to reach it. */
export interface PostgresInstance {
  binDir: string;
  dataDir: string;
  host: string;
  port: number;
  user: string;
  password: string;
  /** Set when running as root: PostgreSQL runs as this unprivileged user. */
  uid?: number;
  gid?: number;
}

/**
 * Debian's server binaries, `/usr/lib/postgresql/<version>/bin`, the newest version first (`SURECRON_PG_BIN`
 * overrides). Debian's `postgresql` package puts them there and nothing on PATH.
 * @throws {PostgresSetupError} with the install command when none is there.
 */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env, dataDir?: string): string {
  // A data dir can only be run by the major version that made it.
  const made =
    dataDir && existsSync(join(dataDir, 'PG_VERSION')) ? readFileSync(join(dataDir, 'PG_VERSION'), 'utf8').trim() : '';
  const candidates = env.SURECRON_PG_BIN
    ? [env.SURECRON_PG_BIN]
    : made
      ? [join('/usr/lib/postgresql', made, 'bin')]
      : (existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql') : [])
          .filter((version) => /^\d+$/.test(version))
          .sort((a, b) => Number(b) - Number(a))
          .map((version) => join('/usr/lib/postgresql', version, 'bin'));
  const found = candidates.find((dir) => isExecutable(join(dir, 'postgres')) && isExecutable(join(dir, 'initdb')));
  if (found) return found;
  throw new PostgresSetupError(
    'PostgreSQL server binaries not found under /usr/lib/postgresql/<version>/bin: install them with ' +
      '`apt-get install -y postgresql` (or set SURECRON_PG_BIN)',
  );
}

/** uid and gid of the user PostgreSQL runs as when we are root: Debian's `postgres`, else `nobody`. */
function unprivilegedUser(): { uid: number; gid: number; name: string } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n');
  for (const name of ['postgres', 'nobody']) {
    const fields = passwd.find((line) => line.startsWith(`${name}:`))?.split(':');
    if (fields?.[2] && fields[3]) return { uid: Number(fields[2]), gid: Number(fields[3]), name };
  }
  throw new PostgresSetupError('running as root, but there is no postgres or nobody user to run PostgreSQL as');
}

/**
 * Every folder above `dir` must let that user pass, or PostgreSQL cannot open its own data directory. Folders the
 * cluster made itself are opened up (traverse only, 0711); any other is reported rather than changed.
 */
function ensureTraversable(dir: string, owned: string, user: string): void {
  for (let current = dirname(dir); ; current = dirname(current)) {
    if (current.startsWith(owned) && current !== dirname(owned)) chmodSync(current, statSync(current).mode | 0o711);
    else if ((statSync(current).mode & 0o001) === 0)
      throw new PostgresSetupError(
        `PostgreSQL runs as ${user} and cannot enter ${current} (mode ${(statSync(current).mode & 0o777).toString(8)}): ` +
          'choose a SURECRON_DATA_DIR outside it, or `chmod o+x` it',
      );
    if (current === dirname(current)) return;
  }
}

/**
 * PostgreSQL's environment: nothing of this process's (it may hold surecron's secrets, readable by the postgres user
 * through /proc), and a locale every Debian system has.
 */
const postgresEnv = (): NodeJS.ProcessEnv => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' });

function run(command: string, args: string[], options: { uid?: number; gid?: number }): void {
  const result = spawnSync(command, args, { encoding: 'utf8', env: postgresEnv(), ...options });
  if (result.status !== 0)
    throw new PostgresSetupError(`${command} ${args[0] ?? ''} failed: ${(result.stderr || result.stdout).trim()}`);
}

/**
 * Makes the cluster's PostgreSQL data directory under `root` on first use (`initdb`, password auth, the
 * superuser `temporal` with a generated password kept beside it, mode 0600), and returns how to run it.
 * A second call finds the same data and password.
 */
export function preparePostgres(root: string, port: number, env: NodeJS.ProcessEnv = process.env): PostgresInstance {
  const dataDir = join(root, 'postgres');
  const binDir = findPostgresBin(env, dataDir);
  const user = unprivilegedUser();
  const passwordFile = join(root, 'postgres-password');
  mkdirSync(root, { recursive: true });
  if (!existsSync(passwordFile)) writeFileSync(passwordFile, randomBytes(18).toString('base64url'), { mode: 0o600 });
  const password = readFileSync(passwordFile, 'utf8').trim();
  const owner = user ? { uid: user.uid, gid: user.gid } : {};
  if (user) ensureTraversable(dataDir, root, user.name);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const pwFile = join(dataDir, '..', '.initdb-password');
    writeFileSync(pwFile, password, { mode: 0o600 });
    if (user) {
      chownSync(dataDir, user.uid, user.gid);
      chownSync(pwFile, user.uid, user.gid);
    }
    try {
      run(
        join(binDir, 'initdb'),
        [
          '-D',
          dataDir,
          '-U',
          POSTGRES_USER,
          `--pwfile=${pwFile}`,
          '--auth=scram-sha-256',
          '-E',
          'UTF8',
          '--no-instructions',
        ],
        owner,
      );
    } finally {
      rmSync(pwFile, { force: true });
    }
  }
  return { binDir, dataDir, host: '127.0.0.1', port, user: POSTGRES_USER, password, ...owner };
}

/**
 * The supervised `postgres` process: loopback TCP only (no Unix socket), every commit fsynced (`fsync`,
 * `synchronous_commit` stay on: nothing Temporal was told is stored can be lost), and enough connections for
 * every node's pools.
 */
export function postgresProcess(instance: PostgresInstance, logFile: string): ProcessSpec {
  return {
    role: 'postgres',
    name: 'postgres',
    address: `${instance.host}:${instance.port}`,
    command: join(instance.binDir, 'postgres'),
    args: [
      '-D',
      instance.dataDir,
      '-p',
      String(instance.port),
      '-c',
      `listen_addresses=${instance.host}`,
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=600',
      '-c',
      'shared_buffers=256MB',
    ],
    env: postgresEnv(),
    uid: instance.uid,
    gid: instance.gid,
    logFile,
    // SIGINT is PostgreSQL's "fast shutdown": clients are disconnected, everything committed is kept.
    stopSignal: 'SIGINT',
    stopTimeoutMs: 20_000,
  };
}

/** How node-postgres reaches one of the cluster's databases. */
export function connectionOptions(instance: PostgresInstance, database = 'postgres'): pg.ClientConfig {
  const { host, port, user, password } = instance;
  return { host, port, user, password, database, connectionTimeoutMillis: 2_000 };
}

/**
 * Resolves once PostgreSQL accepts a query, retrying until `timeoutMs`.
 * @throws {WaitTimeoutError} with the last connection error when it never does.
 */
export async function waitForPostgres(instance: PostgresInstance, timeoutMs: number): Promise<void> {
  const answers = async (): Promise<true> => {
    const client = new pg.Client({ ...connectionOptions(instance), connectionTimeoutMillis: 1_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } finally {
      await client.end().catch(() => undefined);
    }
  };
  await waitFor(answers, timeoutMs, `PostgreSQL on ${instance.host}:${instance.port}`, 250);
}
