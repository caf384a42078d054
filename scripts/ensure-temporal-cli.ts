/** `npm run temporal:ensure`: finds or builds the pinned Temporal CLI and prints where it is. */
import { cliVersion, resolveTemporalCli, TemporalCliNotFoundError } from '../src/temporal/cli.js';

try {
  const started = Date.now();
  const executable = await resolveTemporalCli({ allowSdkDownload: false });
  if (executable.kind === 'path') {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stdout.write(
      `Temporal CLI (${executable.source}, ${seconds} s): ${executable.path}\n${cliVersion(executable.path) ?? ''}\n`,
    );
  }
} catch (error) {
  process.stderr.write(`${error instanceof TemporalCliNotFoundError ? error.message : String(error)}\n`);
  process.exit(1);
}
