import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * The Temporal CLI version surecron runs, pinned here and nowhere else. Later tags carry `replace`
 * directives in their go.mod and cannot be `go install`ed.
 */
export const TEMPORAL_CLI_VERSION = '1.5.1';
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** Where a Temporal dev server binary comes from. */
export type TemporalExecutable =
  | { kind: 'path'; path: string; source: 'TEMPORAL_CLI' | 'cache' | 'go install' | 'PATH' }
  | { kind: 'sdk-download'; source: 'sdk download'; attempts: readonly string[] };

/** Thrown when no way of getting a Temporal CLI worked; the message lists every attempt. */
export class TemporalCliNotFoundError extends Error {
  constructor(readonly attempts: readonly string[]) {
    super(`no Temporal CLI could be found or built; tried: ${attempts.join('; ')}`);
    this.name = 'TemporalCliNotFoundError';
  }
}

export interface ResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Allow `go install` when nothing is cached (default true). */
  build?: boolean;
  /** Allow falling back to the SDK's own download, which needs internet (default true). */
  allowSdkDownload?: boolean;
  /** Progress lines while building. */
  onProgress?: (line: string) => void;
}

/** The directory holding surecron's cached CLI build: `$XDG_CACHE_HOME/surecron/temporal-cli-<version>`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'surecron', `temporal-cli-${TEMPORAL_CLI_VERSION}`);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

async function goInstall(dir: string, env: NodeJS.ProcessEnv, onProgress: (line: string) => void): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  onProgress(
    `building Temporal CLI v${TEMPORAL_CLI_VERSION} with go install into ${dir} (first time only; takes minutes)`,
  );
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', '-x', `${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`], {
      env: { ...env, GOBIN: dir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let compiled = 0;
    let tail = '';
    const ticker = setInterval(() => {
      onProgress(`  … ${Math.round((Date.now() - started) / 1000)} s, ${compiled} packages compiled`);
    }, 15_000);
    child.stderr.setEncoding('utf8');
    let partial = '';
    child.stderr.on('data', (chunk: string) => {
      // Chunks may split lines: keep the unfinished tail for the next one.
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        if (line.startsWith('go: downloading')) onProgress(`  ${line}`);
        if (line.includes('/compile ')) compiled += 1;
      }
      tail = (tail + chunk).slice(-2000);
    });
    child.on('error', (error) => {
      clearInterval(ticker);
      reject(error);
    });
    child.on('exit', (code) => {
      clearInterval(ticker);
      if (code === 0) resolve();
      else
        reject(new Error(`go install exited with ${code}: ${tail.split('\n').filter(Boolean).slice(-3).join(' | ')}`));
    });
  });
  onProgress(`built Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * Finds a Temporal CLI, in this order: `TEMPORAL_CLI` (a path) → the cached build → `go install` into the
 * cache → `temporal` on PATH → the SDK's cached download (needs internet).
 * @throws {TemporalCliNotFoundError} listing what was tried when nothing works.
 */
export async function resolveTemporalCli(options: ResolveOptions = {}): Promise<TemporalExecutable> {
  const env = options.env ?? process.env;
  const onProgress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));
  const attempts: string[] = [];

  if (env.TEMPORAL_CLI) {
    if (isExecutable(env.TEMPORAL_CLI)) return { kind: 'path', path: env.TEMPORAL_CLI, source: 'TEMPORAL_CLI' };
    throw new TemporalCliNotFoundError([`TEMPORAL_CLI=${env.TEMPORAL_CLI} is not an executable file`]);
  }

  const dir = cacheDir(env);
  const cached = join(dir, 'temporal');
  if (isExecutable(cached)) return { kind: 'path', path: cached, source: 'cache' };
  attempts.push(`no cached build at ${cached}`);

  if (options.build !== false) {
    const go = findOnPath('go', env);
    if (go) {
      try {
        await goInstall(dir, env, onProgress);
        if (isExecutable(cached)) return { kind: 'path', path: cached, source: 'go install' };
        attempts.push(`go install finished but ${cached} is missing`);
      } catch (error) {
        attempts.push(`go install failed (${(error as Error).message})`);
      }
    } else {
      attempts.push('go is not on PATH, so the CLI cannot be built');
    }
  }

  const onPath = findOnPath('temporal', env);
  if (onPath) return { kind: 'path', path: onPath, source: 'PATH' };
  attempts.push('no temporal on PATH');

  if (options.allowSdkDownload !== false) return { kind: 'sdk-download', source: 'sdk download', attempts };
  attempts.push('the SDK download was not allowed');
  throw new TemporalCliNotFoundError(attempts);
}

/** The version line a CLI binary prints, or undefined if it does not run. */
export function cliVersion(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
