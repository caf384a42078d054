/**
 * `npm test`: starts a Temporal dev server of its own (free ports, a temporary SQLite file; never `.data` or
 * port 7233), registers surecron's search attributes, bundles the workflows once, runs every test file (test/ and
 * examples/) against it with node's test runner, tears everything down and ends with `N passed, N failed`.
 *
 * Arguments narrow the run to files whose path contains one of them: `npm test -- cron api`.
 */
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec as SpecReporter } from 'node:test/reporters';
import { connectClient, ensureSearchAttributes } from '../src/client.js';
import { resolveTemporalCli } from '../src/temporal/cli.js';
import { startDevServer } from '../src/temporal/dev-server.js';
import { writeUserWorkflowBundle } from '../src/testing/index.js';
import { exampleCode } from '../examples/index.js';
import { freePort } from './helpers/ports.js';

const root = new URL('..', import.meta.url).pathname;

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return ['helpers', 'cluster'].includes(entry.name) ? [] : testFiles(path);
    return entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

async function main(): Promise<number> {
  const filters = process.argv.slice(2);
  const files = [...testFiles(join(root, 'test')), ...testFiles(join(root, 'examples'))]
    .filter((file) => filters.length === 0 || filters.some((f) => relative(root, file).includes(f)))
    .sort();
  // chromium, promtool, PostgreSQL, HAProxy: installed when missing (as root), else the tests that need one say how.
  spawnSync('bash', [join(root, 'scripts/install-debian-packages.sh')], { stdio: 'inherit' });
  const workDir = mkdtempSync(join(tmpdir(), 'surecron-test-'));
  const started = Date.now();
  const executable = await resolveTemporalCli();
  const port = await freePort();
  const server = await startDevServer({
    executable,
    dbFile: join(workDir, 'temporal.db'),
    port,
    namespace: 'default',
    logFile: join(workDir, 'temporal.log'),
  });
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  try {
    const client = await connectClient({ address: server.address, namespace: 'default' });
    await ensureSearchAttributes(client);
    await client.connection.close();
    const bundlePath = join(workDir, 'workflow-bundle.js');
    // The test deployment's workflows: surecron's, yours (src/user/) and the seed examples'.
    await writeUserWorkflowBundle(bundlePath, exampleCode().workflowsPath);
    Object.assign(process.env, {
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: 'default',
      SURECRON_TEST_BUNDLE: bundlePath,
      SURECRON_TEST_WORKDIR: workDir,
      ...(executable.kind === 'path' ? { SURECRON_TEST_TEMPORAL_CLI: executable.path } : {}),
    });
    process.stdout.write(
      `test server ${server.address} ready in ${((Date.now() - started) / 1000).toFixed(1)} s; ${files.length} files\n`,
    );

    const stream = run({ files, concurrency: 2, timeout: 600_000 });
    stream.on('test:pass', (event) => {
      if (event.details.type !== 'suite' && event.nesting >= 0) {
        if (event.skip || event.todo) skipped += 1;
        else passed += 1;
      }
    });
    stream.on('test:fail', (event) => {
      if (event.details.type !== 'suite') failed += 1;
    });
    const reporter = stream.pipe(new SpecReporter());
    reporter.pipe(process.stdout, { end: false });
    await once(reporter, 'end');
  } finally {
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  process.stdout.write(`\ntest suite took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  return failed > 0 || passed === 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`npm test: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
