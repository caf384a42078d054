/**
 * `npm run temporal:ensure`: finds or builds every pinned Temporal binary and prints where each is: the CLI (the
 * embedded dev server) and, for `npm run cluster`, the server, its schema tool and the Web UI server.
 */
import { cliVersion, resolveTemporalCli, TemporalCliNotFoundError } from '../src/temporal/cli.js';
import { ClusterBinaryNotFoundError, resolveClusterBinaries } from '../src/temporal/server-tools.js';

try {
  let started = Date.now();
  const seconds = (): string => ((Date.now() - started) / 1000).toFixed(1);
  const executable = await resolveTemporalCli({ allowSdkDownload: false });
  if (executable.kind === 'path') {
    process.stdout.write(
      `Temporal CLI (${executable.source}, ${seconds()} s): ${executable.path}\n${cliVersion(executable.path) ?? ''}\n`,
    );
  }
  started = Date.now();
  const cluster = await resolveClusterBinaries();
  process.stdout.write(
    `Temporal server (${seconds()} s): ${cluster.server}\n  schema tool: ${cluster.sqlTool}\n  Web UI server: ${cluster.uiServer}\n`,
  );
} catch (error) {
  const known = error instanceof TemporalCliNotFoundError || error instanceof ClusterBinaryNotFoundError;
  process.stderr.write(`${known ? error.message : String(error)}\n`);
  process.exit(1);
}
