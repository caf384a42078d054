import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { statFields } from '../util/proc.js';

/** What a process is to the cluster; `cluster.json` uses exactly these. */
export type ClusterRole = 'postgres' | 'temporal' | 'lb' | 'ui' | 'worker' | 'api';

/** One line of `cluster.json`: scripts outside the repo read it to find (and kill) a process by its pid. */
export interface ClusterProcessEntry {
  role: ClusterRole;
  name: string;
  /** The running instance's pid; null while it waits to be restarted. */
  pid: number | null;
  address: string;
  restarts: number;
  /** The executable, so a later start can tell a leftover of this cluster from a reused pid. */
  command: string;
}

/** How to start one supervised process. */
export interface ProcessSpec {
  role: ClusterRole;
  name: string;
  /** Where it serves (host:port or URL), for people and scripts. */
  address: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Run as this user (PostgreSQL refuses root). */
  uid?: number;
  gid?: number;
  /** stdout and stderr are appended here. */
  logFile: string;
  /** Signal for a graceful stop (default SIGTERM); SIGKILL follows after `stopTimeoutMs`. */
  stopSignal?: NodeJS.Signals;
  stopTimeoutMs?: number;
}

/** util-linux's `setpriv` (Essential in Debian): sets the parent-death signal, then executes the real command. */
const SETPRIV = '/usr/bin/setpriv';

/** Restart backoff: 0.5 s doubling to 10 s; a process that ran 30 s starts over at 0.5 s. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
const HEALTHY_AFTER_MS = 30_000;

interface Managed {
  spec: ProcessSpec;
  child: ChildProcess | undefined;
  restarts: number;
  backoffMs: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * Runs the cluster's processes the way an orchestrator would: each in its own process group (a terminal's Ctrl-C
 * reaches the supervisor only, which then stops them in order), restarted with backoff when it dies, every start
 * and exit logged, and `cluster.json` rewritten (atomically) whenever a pid changes. Each is started with a
 * parent-death signal, so the kernel kills it if the supervisor dies without stopping it.
 */
export class Supervisor {
  private readonly managed: Managed[] = [];
  private readonly annotations: Record<string, unknown> = {};
  private stopping = false;

  constructor(
    private readonly clusterFile: string,
    private readonly logger: Logger,
  ) {
    mkdirSync(dirname(clusterFile), { recursive: true });
  }

  /** Starts a process and keeps it running until `stop`. */
  start(spec: ProcessSpec): void {
    const managed: Managed = { spec, child: undefined, restarts: 0, backoffMs: BACKOFF_MIN_MS, timer: undefined };
    this.managed.push(managed);
    this.spawn(managed);
  }

  /** The current pid of a process by name (undefined while it is down). */
  pid(name: string): number | undefined {
    return this.find(name)?.child?.pid;
  }

  entries(): ClusterProcessEntry[] {
    return this.managed.map(({ spec, child, restarts }) => ({
      role: spec.role,
      name: spec.name,
      pid: child?.pid ?? null,
      address: spec.address,
      restarts,
      command: spec.command,
    }));
  }

  /** Adds fields to `cluster.json` beside `processes` (such as the cluster's membership) and rewrites it. */
  annotate(fields: Record<string, unknown>): void {
    Object.assign(this.annotations, fields);
    this.write();
  }

  /**
   * Stops every process, role by role in the reverse order of their first start (the processes of one role at
   * once), each with its stop signal, then SIGKILL after its timeout.
   */
  async stop(): Promise<void> {
    this.stopping = true;
    const roles = [...new Set(this.managed.map(({ spec }) => spec.role))].reverse();
    for (const role of roles) {
      const group = this.managed.filter(({ spec }) => spec.role === role);
      for (const managed of group) clearTimeout(managed.timer);
      await Promise.all(group.map(stopChild));
    }
    this.write();
  }

  private find(name: string): Managed | undefined {
    return this.managed.find((managed) => managed.spec.name === name);
  }

  private spawn(managed: Managed): void {
    const { spec } = managed;
    mkdirSync(dirname(spec.logFile), { recursive: true });
    const log = openSync(spec.logFile, 'a');
    const started = Date.now();
    // The kernel kills the child if the supervisor itself dies, even by `kill -9`: nothing outlives the cluster.
    const [command, args] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'KILL', '--', spec.command, ...spec.args]]
      : [spec.command, spec.args];
    const child = spawn(command, args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', log, log],
      ...(spec.uid !== undefined ? { uid: spec.uid } : {}),
      ...(spec.gid !== undefined ? { gid: spec.gid } : {}),
    });
    closeSync(log);
    managed.child = child;
    const exited = (code: number | null, signal: NodeJS.Signals | null): void => {
      if (managed.child !== child) return;
      managed.child = undefined;
      this.write();
      if (this.stopping) return;
      const ranMs = Date.now() - started;
      if (ranMs >= HEALTHY_AFTER_MS) managed.backoffMs = BACKOFF_MIN_MS;
      const delayMs = managed.backoffMs;
      managed.backoffMs = Math.min(BACKOFF_MAX_MS, managed.backoffMs * 2);
      this.logger.warn(
        { process: spec.name, role: spec.role, code, signal, ranMs, restartInMs: delayMs, log: spec.logFile },
        'process exited; restarting',
      );
      managed.timer = setTimeout(() => {
        if (this.stopping) return;
        managed.restarts += 1;
        this.spawn(managed);
      }, delayMs);
    };
    child.once('exit', exited);
    child.on('error', (error) => {
      this.logger.error({ process: spec.name, err: error }, 'process failed to start');
      // Spawning itself failed (no 'exit' follows): try again later, as for a process that died.
      if (child.pid === undefined) exited(null, null);
    });
    if (child.pid !== undefined) {
      this.logger.info({ process: spec.name, role: spec.role, pid: child.pid, address: spec.address }, 'started');
    }
    this.write();
  }

  private write(): void {
    const temp = `${this.clusterFile}.tmp`;
    writeFileSync(temp, `${JSON.stringify({ processes: this.entries(), ...this.annotations }, null, 2)}\n`);
    renameSync(temp, this.clusterFile);
  }
}

function stopChild(managed: Managed): Promise<void> {
  const { child, spec } = managed;
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), spec.stopTimeoutMs ?? 15_000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill(spec.stopSignal ?? 'SIGTERM');
  });
}

/**
 * The pid of the supervisor that wrote `clusterFile` when it still runs (a Node process), else undefined: a cluster
 * must not be started twice on one data dir.
 */
export function liveSupervisor(clusterFile: string): number | undefined {
  try {
    const { supervisor } = JSON.parse(readFileSync(clusterFile, 'utf8')) as { supervisor?: number };
    if (!supervisor || supervisor === process.pid) return undefined;
    const executable = readFileSync(`/proc/${supervisor}/cmdline`, 'utf8').split('\0')[0] ?? '';
    return /node/.test(executable) ? supervisor : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Kills what a supervisor that was itself killed (`kill -9`) left running, from its `cluster.json`. A pid is killed
 * only while it still leads its own process group and runs the same executable, so a reused pid is never hit.
 * @returns the names of the processes killed.
 */
export function killLeftovers(clusterFile: string): string[] {
  let entries: ClusterProcessEntry[];
  try {
    entries = (JSON.parse(readFileSync(clusterFile, 'utf8')) as { processes: ClusterProcessEntry[] }).processes;
  } catch {
    return [];
  }
  const killed: string[] = [];
  for (const entry of entries) {
    if (!entry.pid || !entry.command) continue;
    try {
      const executable = readFileSync(`/proc/${entry.pid}/cmdline`, 'utf8').split('\0')[0];
      const processGroup = Number(statFields(entry.pid)?.[2]);
      if (executable !== entry.command || processGroup !== entry.pid) continue;
      process.kill(-entry.pid, 'SIGKILL');
      killed.push(entry.name);
    } catch {
      // gone already
    }
  }
  return killed;
}
