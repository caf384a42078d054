import { TestWorkflowEnvironment } from '@temporalio/testing';
import { TemporalCliNotFoundError, type TemporalExecutable } from './cli.js';
import { waitForFrontend } from '../client.js';
import { spawnServerProcess, untilReady } from './server-process.js';

/**
 * Dynamic config the embedded server needs for precise schedules. The scheduler starts workflows at a
 * per-namespace rate (default 1/s in server 1.29 for the dev server's single namespace is too low for many
 * tasks firing on the same second), so fires would queue up and run late.
 */
export const devServerDynamicConfig: Readonly<Record<string, string | number | boolean>> = {
  'worker.schedulerNamespaceStartWorkflowRPS': 1000,
  'frontend.namespaceRPS.visibility': 1000,
};

/**
 * SQLite settings of the embedded server's database file. Write-ahead logging keeps every commit as durable as
 * SQLite's default rollback journal (`synchronous` stays FULL: one fsync per commit, so nothing acknowledged is
 * lost even on power loss) but with one sequential fsync instead of several, and lets readers run beside the
 * writer: task registration measured 1.6× faster on 2 cores (17 → 27 tasks/s).
 */
export const devServerSqlitePragmas: Readonly<Record<string, string>> = {
  journal_mode: 'wal',
  synchronous: 'full',
};

export interface DevServerOptions {
  executable: TemporalExecutable;
  /** SQLite file; omitted → in-memory (tests). */
  dbFile?: string;
  ip?: string;
  port: number;
  uiPort?: number;
  /** Port of the server's Prometheus `/metrics` endpoint (benchmarks); omitted → a random one. */
  metricsPort?: number;
  namespace: string;
  /** Where the server's own log goes (appended). */
  logFile?: string;
  /** A pid file used to stop a server orphaned by a previous hard kill. */
  pidFile?: string;
  /** SQLite pragmas overriding {@link devServerSqlitePragmas} (benchmarks). */
  sqlitePragmas?: Readonly<Record<string, string>>;
  /** Dynamic config beside (or overriding) {@link devServerDynamicConfig}. */
  dynamicConfig?: Readonly<Record<string, string | number | boolean>>;
}

/** A running embedded Temporal dev server. */
export interface DevServer {
  readonly address: string;
  /** The server process, when surecron started it itself. */
  readonly pid?: number;
  readonly uiUrl?: string;
  stop(): Promise<void>;
}

function serverArgs(options: DevServerOptions): string[] {
  const args = ['--namespace', options.namespace, '--ip', options.ip ?? '127.0.0.1', '--log-level', 'warn'];
  if (options.dbFile) {
    args.push('--db-filename', options.dbFile);
    for (const [pragma, value] of Object.entries({ ...devServerSqlitePragmas, ...options.sqlitePragmas }))
      args.push('--sqlite-pragma', `${pragma}=${value}`);
  }
  if (options.uiPort) args.push('--ui-port', String(options.uiPort));
  else args.push('--headless');
  if (options.metricsPort) args.push('--metrics-port', String(options.metricsPort));
  for (const [key, value] of Object.entries({ ...devServerDynamicConfig, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return args;
}

async function startFromPath(path: string, options: DevServerOptions): Promise<DevServer> {
  const address = `${options.ip ?? '127.0.0.1'}:${options.port}`;
  const server = spawnServerProcess({
    title: 'Temporal dev server',
    command: path,
    args: ['server', 'start-dev', '--port', String(options.port), ...serverArgs(options)],
    logFile: options.logFile,
    pidFile: options.pidFile,
    staleMarker: 'start-dev',
  });
  await untilReady(server, waitForFrontend(address, 60_000));
  return {
    address,
    pid: server.pid,
    uiUrl: options.uiPort ? `http://${options.ip ?? '127.0.0.1'}:${options.uiPort}` : undefined,
    stop: () => server.stop(),
  };
}

async function startFromSdkDownload(options: DevServerOptions, attempts: readonly string[]): Promise<DevServer> {
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'cached-download' },
        ip: options.ip ?? '127.0.0.1',
        port: options.port,
        uiPort: options.uiPort,
        ui: options.uiPort !== undefined,
        dbFilename: options.dbFile,
        namespace: options.namespace,
        extraArgs: serverArgs(options).slice(4),
      },
    });
    const address = `${options.ip ?? '127.0.0.1'}:${options.port}`;
    return {
      address,
      uiUrl: options.uiPort ? `http://${options.ip ?? '127.0.0.1'}:${options.uiPort}` : undefined,
      stop: () => env.teardown(),
    };
  } catch (error) {
    throw new TemporalCliNotFoundError([
      ...attempts,
      `the SDK download failed (${(error as Error).message.split('\n')[0]})`,
    ]);
  }
}

/**
 * Starts a Temporal dev server and resolves once its frontend answers.
 * @throws {TemporalCliNotFoundError} when the SDK download was the last resort and failed.
 */
export function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const { executable } = options;
  return executable.kind === 'path'
    ? startFromPath(executable.path, options)
    : startFromSdkDownload(options, executable.attempts);
}
