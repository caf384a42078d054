import { resolveGoTool, type GoTool, type GoToolResolveOptions } from './go-tool.js';
import { TEMPORAL_SERVER_VERSION, TEMPORAL_UI_VERSION } from './versions.js';

/** The Temporal server and its SQL schema tool, one module, one `go install`. */
export const temporalServerTool: GoTool = {
  title: 'Temporal server',
  version: TEMPORAL_SERVER_VERSION,
  cacheName: `temporal-server-${TEMPORAL_SERVER_VERSION}`,
  packages: [
    `go.temporal.io/server/cmd/server@v${TEMPORAL_SERVER_VERSION}`,
    `go.temporal.io/server/cmd/tools/sql@v${TEMPORAL_SERVER_VERSION}`,
  ],
  binaries: ['server', 'sql'],
  envVar: 'TEMPORAL_SERVER',
  pathNames: ['temporal-server', 'temporal-sql-tool'],
};

/** The Web UI server (the one the CLI embeds), for a cluster that has no dev server. */
export const temporalUiTool: GoTool = {
  title: 'Temporal Web UI server',
  version: TEMPORAL_UI_VERSION,
  cacheName: `temporal-ui-server-${TEMPORAL_UI_VERSION}`,
  packages: [`github.com/temporalio/ui-server/v2/cmd/server@v${TEMPORAL_UI_VERSION}`],
  binaries: ['server'],
  envVar: 'TEMPORAL_UI_SERVER',
  pathNames: ['temporal-ui-server'],
};

/** Thrown when a cluster binary could not be found or built; the message lists every attempt. */
export class ClusterBinaryNotFoundError extends Error {
  constructor(
    readonly tool: string,
    readonly attempts: readonly string[],
  ) {
    super(`no ${tool} could be found or built; tried: ${attempts.join('; ')}`);
    this.name = 'ClusterBinaryNotFoundError';
  }
}

/** Paths of the binaries a cluster runs. */
export interface ClusterBinaries {
  server: string;
  sqlTool: string;
  uiServer: string;
}

async function resolveOrThrow(tool: GoTool, options: GoToolResolveOptions): Promise<string[]> {
  const attempts: string[] = [];
  const found = await resolveGoTool(tool, attempts, options);
  if (!found) throw new ClusterBinaryNotFoundError(tool.title, attempts);
  return found.paths;
}

/**
 * Finds or builds the server, its schema tool and the UI server, each in the CLI's order: env var (`TEMPORAL_SERVER`
 * with `temporal-sql-tool` beside it, `TEMPORAL_UI_SERVER`) → cached build → `go install` → PATH.
 * @throws {ClusterBinaryNotFoundError} naming the tool and what was tried.
 */
export async function resolveClusterBinaries(options: GoToolResolveOptions = {}): Promise<ClusterBinaries> {
  const [server, sqlTool] = await resolveOrThrow(temporalServerTool, options);
  const [uiServer] = await resolveOrThrow(temporalUiTool, options);
  if (!server || !sqlTool || !uiServer) throw new Error('unreachable: a resolved tool lacks a binary');
  return { server, sqlTool, uiServer };
}
