import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A binary surecron builds from Go modules when it is not given one. */
export interface GoTool {
  /** What the user reads in progress lines and errors, e.g. `Temporal CLI`. */
  title: string;
  version: string;
  /** Folder under `$XDG_CACHE_HOME/surecron/`, versioned, e.g. `temporal-cli-1.5.1`. */
  cacheName: string;
  /** `module/path@version` arguments for one `go install`; each builds one binary into the cache. */
  packages: readonly string[];
  /** Binaries in the cache folder, by the name `go install` gives them. */
  binaries: readonly string[];
  /** An environment variable holding a path to the first binary (the others are looked for beside it). */
  envVar: string;
  /** Names of the binaries on PATH, in the order of `binaries`. */
  pathNames: readonly string[];
}

/** Where a tool's binaries were found: paths in the order of `GoTool.binaries`. */
export interface ResolvedGoTool {
  paths: string[];
  source: 'env' | 'cache' | 'go install' | 'PATH';
}

export interface GoToolResolveOptions {
  env?: NodeJS.ProcessEnv;
  /** Allow `go install` when nothing is cached (default true). */
  build?: boolean;
  /** Progress lines while building. */
  onProgress?: (line: string) => void;
}

/** The directory holding a tool's cached build: `$XDG_CACHE_HOME/surecron/<cacheName>` (or `~/.cache/…`). */
export function toolCacheDir(tool: Pick<GoTool, 'cacheName'>, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(base, 'surecron', tool.cacheName);
}

export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findOnPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Runs `go install` of the tool's packages into `dir`, reporting downloads and a compile count every 15 s. */
async function goInstall(tool: GoTool, dir: string, env: NodeJS.ProcessEnv, onProgress: (line: string) => void) {
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  onProgress(`building ${tool.title} v${tool.version} with go install into ${dir} (first time only; takes minutes)`);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('go', ['install', '-x', ...tool.packages], {
      env: { ...env, GOBIN: dir },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let compiled = 0;
    let tail = '';
    let partial = '';
    const ticker = setInterval(() => {
      onProgress(`  … ${Math.round((Date.now() - started) / 1000)} s, ${compiled} packages compiled`);
    }, 15_000);
    child.stderr.setEncoding('utf8');
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
  onProgress(`built ${tool.title} in ${Math.round((Date.now() - started) / 1000)} s`);
}

/**
 * Finds a tool's binaries, in this order: its env var (a path) → the cached build → `go install` into the cache →
 * its names on PATH. Returns undefined with every attempt in `attempts` when nothing works; throws only when the
 * env var names something that is not executable (the user asked for exactly that binary).
 */
export async function resolveGoTool(
  tool: GoTool,
  attempts: string[],
  options: GoToolResolveOptions = {},
): Promise<ResolvedGoTool | undefined> {
  const env = options.env ?? process.env;
  const onProgress = options.onProgress ?? ((line: string) => process.stderr.write(`${line}\n`));

  const given = env[tool.envVar];
  if (given) {
    const dir = join(given, '..');
    const paths = [given, ...tool.pathNames.slice(1).map((name) => join(dir, name))];
    const missing = paths.filter((path) => !isExecutable(path));
    if (missing.length === 0) return { paths, source: 'env' };
    attempts.push(
      missing.length === 1 && missing[0] === given
        ? `${tool.envVar}=${given} is not an executable file`
        : `${tool.envVar}=${given}: ${missing.join(', ')} not executable`,
    );
    return undefined;
  }

  const dir = toolCacheDir(tool, env);
  const cached = tool.binaries.map((name) => join(dir, name));
  if (cached.every(isExecutable)) return { paths: cached, source: 'cache' };
  attempts.push(`no cached build at ${cached.join(', ')}`);

  if (options.build !== false) {
    if (findOnPath('go', env)) {
      try {
        await goInstall(tool, dir, env, onProgress);
        if (cached.every(isExecutable)) return { paths: cached, source: 'go install' };
        attempts.push(`go install finished but ${cached.join(', ')} is missing`);
      } catch (error) {
        attempts.push(`go install failed (${(error as Error).message})`);
      }
    } else {
      attempts.push(`go is not on PATH, so ${tool.title} cannot be built`);
    }
  }

  const onPath = tool.pathNames.map((name) => findOnPath(name, env));
  if (onPath.every((path): path is string => path !== undefined)) return { paths: onPath, source: 'PATH' };
  attempts.push(`no ${tool.pathNames.join(' and ')} on PATH`);
  return undefined;
}
