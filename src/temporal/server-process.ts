import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ServerProcessOptions {
  /** What error messages call it, e.g. `Temporal dev server`. */
  title: string;
  command: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Where its output goes (appended). */
  logFile?: string;
  /** A pid file, so a process orphaned by a hard kill of surecron is stopped by the next start. */
  pidFile?: string;
  /** Text of the command line a stale pid must contain to be killed, so a reused pid is never hit. */
  staleMarker: string;
}

/** A server process surecron started and stops. */
export interface ServerProcess {
  readonly pid?: number;
  /** Rejects when the process exits before `stop`, with its last output. */
  readonly died: Promise<never>;
  /** SIGTERM, then SIGKILL after 10 s; removes the pid file. */
  stop(): Promise<void>;
}

/** Kills the process of a pid file left by an earlier run, if it still runs `marker`, and removes the file. */
function killStale(pidFile: string | undefined, marker: string): void {
  if (!pidFile) return;
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile, 'utf8').trim());
  } catch {
    return;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (cmdline.includes(marker)) process.kill(pid, 'SIGKILL');
  } catch {
    // not running any more
  }
  rmSync(pidFile, { force: true });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/**
 * Starts a server in its own process group (so a terminal's Ctrl-C reaches surecron first, and the worker drains
 * before the server stops), killed when this process exits without stopping it.
 */
export function spawnServerProcess(options: ServerProcessOptions): ServerProcess {
  killStale(options.pidFile, options.staleMarker);
  if (options.logFile) mkdirSync(dirname(options.logFile), { recursive: true });
  const child = spawn(options.command, options.args, {
    detached: true,
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const collect = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-4000);
    if (options.logFile) writeFileSync(options.logFile, chunk, { flag: 'a' });
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  if (options.pidFile && child.pid) writeFileSync(options.pidFile, String(child.pid));
  let stopping = false;

  const died = exited(child).then((): never => {
    const last = output.trim().split('\n').slice(-5).join(' | ');
    throw new Error(`${options.title} exited${stopping ? '' : ' early'} (code ${child.exitCode}): ${last}`);
  });
  died.catch(() => undefined);
  return {
    pid: child.pid,
    died,
    stop: async () => {
      stopping = true;
      process.removeListener('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited(child);
        clearTimeout(timer);
      }
      if (options.pidFile) rmSync(options.pidFile, { force: true });
    },
  };
}

/** Waits for `ready` unless the process dies first; stops it when either fails. */
export async function untilReady(server: ServerProcess, ready: Promise<unknown>): Promise<void> {
  ready.catch(() => undefined);
  try {
    await Promise.race([ready, server.died]);
  } catch (error) {
    await server.stop();
    throw error;
  }
}
