import { spawnSync } from 'node:child_process';
import { resolveGoTool, toolCacheDir, type GoTool, type GoToolResolveOptions } from './go-tool.js';
import { TEMPORAL_CLI_VERSION } from './versions.js';

export { TEMPORAL_CLI_VERSION };
/** Later CLI tags carry `replace` directives in their go.mod and cannot be `go install`ed. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';

/** The Temporal CLI, which embeds the dev server and the Web UI. */
export const temporalCliTool: GoTool = {
  title: 'Temporal CLI',
  version: TEMPORAL_CLI_VERSION,
  cacheName: `temporal-cli-${TEMPORAL_CLI_VERSION}`,
  packages: [`${TEMPORAL_CLI_MODULE}@v${TEMPORAL_CLI_VERSION}`],
  binaries: ['temporal'],
  envVar: 'TEMPORAL_CLI',
  pathNames: ['temporal'],
};

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

export interface ResolveOptions extends GoToolResolveOptions {
  /** Allow falling back to the SDK's own download, which needs internet (default true). */
  allowSdkDownload?: boolean;
}

/** The directory holding surecron's cached CLI build: `$XDG_CACHE_HOME/surecron/temporal-cli-<version>`. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return toolCacheDir(temporalCliTool, env);
}

/**
 * Finds a Temporal CLI, in this order: `TEMPORAL_CLI` (a path) → the cached build → `go install` into the
 * cache → `temporal` on PATH → the SDK's cached download (needs internet).
 * @throws {TemporalCliNotFoundError} listing what was tried when nothing works.
 */
export async function resolveTemporalCli(options: ResolveOptions = {}): Promise<TemporalExecutable> {
  const env = options.env ?? process.env;
  const attempts: string[] = [];
  const found = await resolveGoTool(temporalCliTool, attempts, options);
  const source = { env: 'TEMPORAL_CLI', cache: 'cache', 'go install': 'go install', PATH: 'PATH' } as const;
  if (found?.paths[0]) return { kind: 'path', path: found.paths[0], source: source[found.source] };
  if (env.TEMPORAL_CLI) throw new TemporalCliNotFoundError(attempts);
  if (options.allowSdkDownload !== false) return { kind: 'sdk-download', source: 'sdk download', attempts };
  attempts.push('the SDK download was not allowed');
  throw new TemporalCliNotFoundError(attempts);
}

/** The version line a CLI binary prints, or undefined if it does not run. */
export function cliVersion(path: string): string | undefined {
  const result = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 ? result.stdout.trim() : undefined;
}
