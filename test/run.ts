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

interface FilesOutcome {
  passed: number;
  failed: number;
  skipped: number;
  /** Files whose tests all passed but whose process then ended badly: file → how it ended. */
  crashes: Map<string, string>;
}

/** Runs `files` with node's test runner (two at a time), printing the spec report; counts tests, not suites. */
async function runFiles(files: string[]): Promise<FilesOutcome> {
  const outcome: FilesOutcome = { passed: 0, failed: 0, skipped: 0, crashes: new Map() };
  const failedTests = new Set<string>();
  const stream = run({ files, concurrency: 2, timeout: 600_000 });
  stream.on('test:pass', (event) => {
    if (event.details.type !== 'suite' && event.nesting >= 0) {
      if (event.skip || event.todo) outcome.skipped += 1;
      else outcome.passed += 1;
    }
  });
  stream.on('test:fail', (event) => {
    if (event.details.type !== 'suite') outcome.failed += 1;
    const file = event.file ?? '';
    const error = event.details.error as { failureType?: string; exitCode?: number | null; signal?: string | null };
    if (
      event.nesting === 0 &&
      event.name === file &&
      error.failureType === 'testCodeFailure' &&
      !failedTests.has(file)
    ) {
      outcome.crashes.set(file, error.signal ? `signal ${error.signal}` : `exit code ${String(error.exitCode)}`);
    } else {
      failedTests.add(file);
    }
  });
  const reporter = stream.pipe(new SpecReporter());
  reporter.pipe(process.stdout, { end: false });
  await once(reporter, 'end');
  return outcome;
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
  let retried: string[] = [];
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

    const first = await runFiles(files);
    passed += first.passed;
    skipped += first.skipped;
    failed += first.failed;
    // A file whose process died (a signal, or a non-zero exit) after every test in it had passed: the native
    // runtime's teardown, not a test. Run it once more and report it either way; a test that fails still fails.
    const crashed = [...first.crashes.keys()];
    if (crashed.length) {
      for (const [file, crash] of first.crashes) {
        process.stdout.write(`\n${relative(root, file)}: its tests passed, then its process ended with ${crash}\n`);
      }
      process.stdout.write(`running ${crashed.length} such file(s) once more\n`);
      const again = await runFiles(crashed);
      if (again.failed === 0 && again.crashes.size === 0) failed -= crashed.length;
      else failed += again.failed;
      retried = crashed.map((file) => relative(root, file));
    }
  } finally {
    await server.stop();
    rmSync(workDir, { recursive: true, force: true });
  }
  process.stdout.write(`\ntest suite took ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  if (retried.length) process.stdout.write(`run again after a crash past their tests: ${retried.join(', ')}\n`);
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
