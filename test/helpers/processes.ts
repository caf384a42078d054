import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { statFields } from '../../src/util/proc.js';
import { freePort } from './ports.js';

/** The repository root: the working directory of every process a test starts. */
export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface SpawnOptions {
  /** Added to this process's environment; a variable set to undefined is not passed on. */
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, which is then closed; without it stdin is /dev/null. */
  stdin?: string;
  /** Keep only the last this many characters of each output (default: all of it). */
  keep?: number;
}

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** stdout and stderr together, as they arrived. */
  output(): string;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (null when a signal ended the process) once it exited. */
  exited: Promise<number | null>;
  /** Resolves with the exit code once the process exited and all its output is read. */
  closed: Promise<number | null>;
  /** Resolves once the output holds `text`; rejects if the process exits first. */
  untilOutput(text: string): Promise<void>;
}

/** Every child a test started that has not exited yet: `killSpawned` ends them by pid, as does this process's exit. */
const running = new Set<ChildProcess>();
export function killSpawned(): void {
  for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.once('exit', killSpawned);

/** Starts `command` in the repository root with its stdout and stderr captured. */
export function spawnProcess(command: string, args: readonly string[], options: SpawnOptions = {}): Spawned {
  const child = spawn(command, args, {
    cwd: root,
    env: { ...process.env, ...options.env },
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (!child.pid) throw new Error(`could not spawn ${command} ${args.join(' ')}`);
  running.add(child);
  if (options.stdin) child.stdin?.end(options.stdin);
  else child.stdin?.end();
  const keep = options.keep ?? Infinity;
  let output = '';
  let stdout = '';
  let stderr = '';
  const waiting: { text: string; resolve: () => void }[] = [];
  const collect =
    (stream: 'stdout' | 'stderr') =>
    (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-keep);
      if (stream === 'stdout') stdout = (stdout + text).slice(-keep);
      else stderr = (stderr + text).slice(-keep);
      for (const waiter of waiting) if (output.includes(waiter.text)) waiter.resolve();
    };
  child.stdout?.on('data', collect('stdout'));
  child.stderr?.on('data', collect('stderr'));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const closed = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  void exited.then(() => running.delete(child));
  const untilOutput = (text: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (output.includes(text)) return resolve();
      waiting.push({ text, resolve });
      void exited.then(() => {
        const status = child.exitCode ?? child.signalCode;
        reject(
          new Error(
            `${[command, ...args].join(' ')} exited (${status}) before printing "${text}": ${output.slice(-800)}`,
          ),
        );
      });
    });
  return {
    child,
    pid: child.pid,
    output: () => output,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    closed,
    untilOutput,
  };
}

/** Runs a TypeScript file as its own node process (`node --import tsx file`). */
export function spawnTs(script: string, options: SpawnOptions = {}): Spawned {
  return spawnProcess(process.execPath, ['--import', 'tsx', script], options);
}

/**
 * Runs a surecron entry point (`src/main.ts`, `src/worker.ts`, ...) as its own process, the way `npm start` and
 * `npm run start:*` do: JSON logs at warn level, and no TEMPORAL_ADDRESS inherited from `npm test`.
 */
export function launchEntryPoint(script: string, env: Record<string, string | undefined>): Spawned {
  return spawnTs(script, {
    env: { TEMPORAL_ADDRESS: undefined, SURECRON_LOG_FORMAT: 'json', SURECRON_LOG_LEVEL: 'warn', ...env },
  });
}

/**
 * Free ports and the environment of `npm start` (src/main.ts, all in one) on `dataDir`, with the Temporal CLI at
 * `cli` and no API token set (one is generated into the data dir).
 */
export async function npmStartEnv(
  cli: string,
  dataDir: string,
): Promise<{ apiPort: number; temporalPort: number; uiPort: number; env: Record<string, string | undefined> }> {
  const [apiPort, temporalPort, uiPort] = [await freePort(), await freePort(), await freePort()];
  const env = {
    TEMPORAL_CLI: cli,
    SURECRON_DATA_DIR: dataDir,
    SURECRON_API_PORT: String(apiPort),
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    SURECRON_API_TOKEN: undefined,
  };
  return { apiPort, temporalPort, uiPort, env };
}

/**
 * Stops a process by its pid: SIGTERM, then SIGKILL if it has not exited after `timeoutMs`. Resolves with its exit
 * code (null when a signal ended it).
 */
export async function stopProcess(spawned: Spawned, timeoutMs = 40_000): Promise<number | null> {
  const { child } = spawned;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await spawned.exited;
  clearTimeout(timer);
  return code;
}

/** True while process `pid` exists and is not a zombie (exited, not yet reaped). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  const state = statFields(pid)?.[0];
  return state !== undefined && state !== 'Z';
}
