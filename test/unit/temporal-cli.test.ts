import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  cacheDir,
  resolveTemporalCli,
  TEMPORAL_CLI_MODULE,
  TEMPORAL_CLI_VERSION,
  TemporalCliNotFoundError,
  type TemporalExecutable,
} from '../../src/temporal/cli.js';

const scratch: string[] = [];
after(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'surecron-cli-test-'));
  scratch.push(dir);
  return dir;
}

/** Writes a `#!/bin/sh` script; executable (0755) unless told otherwise. */
function script(path: string, body: string, mode = 0o755): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, mode);
  return path;
}

/** A fresh sandbox: its own XDG cache (empty) and an empty bin dir to put on PATH. */
function sandbox(): { root: string; xdg: string; bin: string; cached: string; env: NodeJS.ProcessEnv } {
  const root = tempDir();
  const xdg = join(root, 'xdg');
  const bin = join(root, 'bin');
  mkdirSync(xdg, { recursive: true });
  mkdirSync(bin, { recursive: true });
  const env: NodeJS.ProcessEnv = { XDG_CACHE_HOME: xdg, PATH: bin };
  return { root, xdg, bin, cached: join(cacheDir(env), 'temporal'), env };
}

async function notFound(promise: Promise<TemporalExecutable>): Promise<TemporalCliNotFoundError> {
  try {
    const result = await promise;
    assert.fail(`expected TemporalCliNotFoundError, resolved ${JSON.stringify(result)}`);
  } catch (error) {
    assert.ok(error instanceof TemporalCliNotFoundError, `expected TemporalCliNotFoundError, got ${String(error)}`);
    return error;
  }
}

describe('cacheDir', () => {
  it('is <XDG_CACHE_HOME>/surecron/temporal-cli-1.5.1 when XDG_CACHE_HOME is set', () => {
    assert.equal(TEMPORAL_CLI_VERSION, '1.5.1');
    assert.equal(cacheDir({ XDG_CACHE_HOME: '/tmp/xdg-test' }), '/tmp/xdg-test/surecron/temporal-cli-1.5.1');
  });

  it('falls back to ~/.cache when XDG_CACHE_HOME is unset or empty', () => {
    const expected = join(homedir(), '.cache', 'surecron', 'temporal-cli-1.5.1');
    assert.equal(cacheDir({}), expected);
    assert.equal(cacheDir({ XDG_CACHE_HOME: '' }), expected);
  });
});

describe('resolveTemporalCli', () => {
  it('TEMPORAL_CLI wins over the cache and PATH', async () => {
    const box = sandbox();
    const explicit = script(join(box.root, 'custom', 'my-temporal'), 'echo custom');
    script(box.cached, 'echo cached');
    script(join(box.bin, 'temporal'), 'echo path');
    const result = await resolveTemporalCli({ env: { ...box.env, TEMPORAL_CLI: explicit }, onProgress: () => {} });
    assert.deepEqual(result, { kind: 'path', path: explicit, source: 'TEMPORAL_CLI' });
  });

  it('a TEMPORAL_CLI that is not executable throws TemporalCliNotFoundError naming it', async () => {
    const box = sandbox();
    const plain = script(join(box.root, 'not-exec', 'temporal'), 'echo nope', 0o644);
    // Even with a usable cached build: an explicit TEMPORAL_CLI that does not work is an error, not a fallback.
    script(box.cached, 'echo cached');
    const error = await notFound(
      resolveTemporalCli({ env: { ...box.env, TEMPORAL_CLI: plain }, onProgress: () => {} }),
    );
    assert.deepEqual(error.attempts, [`TEMPORAL_CLI=${plain} is not an executable file`]);
    assert.equal(
      error.message,
      `no Temporal CLI could be found or built; tried: TEMPORAL_CLI=${plain} is not an executable file`,
    );
    assert.equal(error.name, 'TemporalCliNotFoundError');
  });

  it('a TEMPORAL_CLI that does not exist throws naming it', async () => {
    const box = sandbox();
    const missing = join(box.root, 'nowhere', 'temporal');
    const error = await notFound(
      resolveTemporalCli({ env: { ...box.env, TEMPORAL_CLI: missing }, onProgress: () => {} }),
    );
    assert.ok(error.message.includes(missing), error.message);
  });

  it('finds a cached binary in <XDG_CACHE_HOME>/surecron/temporal-cli-1.5.1 with source "cache"', async () => {
    const box = sandbox();
    assert.equal(box.cached, join(box.xdg, 'surecron', 'temporal-cli-1.5.1', 'temporal'));
    script(box.cached, 'echo cached');
    const marker = join(box.root, 'go-was-called');
    script(join(box.bin, 'go'), `: > '${marker}'`);
    script(join(box.bin, 'temporal'), 'echo path');
    const progress: string[] = [];
    const result = await resolveTemporalCli({ env: box.env, onProgress: (line) => progress.push(line) });
    assert.deepEqual(result, { kind: 'path', path: box.cached, source: 'cache' });
    assert.equal(existsSync(marker), false, 'go is not run when a cached build exists');
    assert.deepEqual(progress, []);
  });

  it('a non-executable file in the cache is not used', async () => {
    const box = sandbox();
    script(box.cached, 'echo cached', 0o644);
    const onPath = script(join(box.bin, 'temporal'), 'echo path');
    const result = await resolveTemporalCli({ env: box.env, build: false, onProgress: () => {} });
    assert.deepEqual(result, { kind: 'path', path: onPath, source: 'PATH' });
  });

  it('with build:false, a temporal on PATH is found with source "PATH"', async () => {
    const box = sandbox();
    const other = join(box.root, 'other-bin');
    mkdirSync(other);
    const onPath = script(join(box.bin, 'temporal'), 'echo path');
    const result = await resolveTemporalCli({
      env: { ...box.env, PATH: `${other}:${box.bin}` },
      build: false,
      allowSdkDownload: false,
      onProgress: () => {},
    });
    assert.deepEqual(result, { kind: 'path', path: onPath, source: 'PATH' });
  });

  it('with build:false, an empty PATH and no SDK download: TemporalCliNotFoundError listing each attempt', async () => {
    const box = sandbox();
    const error = await notFound(
      resolveTemporalCli({
        env: { ...box.env, PATH: '' },
        build: false,
        allowSdkDownload: false,
        onProgress: () => {},
      }),
    );
    const attempts = [`no cached build at ${box.cached}`, 'no temporal on PATH', 'the SDK download was not allowed'];
    assert.deepEqual(error.attempts, attempts);
    assert.equal(error.message, `no Temporal CLI could be found or built; tried: ${attempts.join('; ')}`);
    for (const attempt of attempts) assert.ok(error.message.includes(attempt), `message lacks "${attempt}"`);
  });

  it('with allowSdkDownload (the default), falls back to kind "sdk-download" carrying the attempts', async () => {
    const box = sandbox();
    const result = await resolveTemporalCli({ env: { ...box.env, PATH: '' }, build: false, onProgress: () => {} });
    assert.deepEqual(result, {
      kind: 'sdk-download',
      source: 'sdk download',
      attempts: [`no cached build at ${box.cached}`, 'no temporal on PATH'],
    });
  });

  it('when building is allowed but go is not on PATH, the attempts say so', async () => {
    const box = sandbox();
    const result = await resolveTemporalCli({ env: box.env, allowSdkDownload: true, onProgress: () => {} });
    assert.deepEqual(result, {
      kind: 'sdk-download',
      source: 'sdk download',
      attempts: [
        `no cached build at ${box.cached}`,
        'go is not on PATH, so Temporal CLI cannot be built',
        'no temporal on PATH',
      ],
    });
  });

  it('go install: a fake go that writes $GOBIN/temporal yields source "go install" and reports progress', async () => {
    const box = sandbox();
    const argsFile = join(box.root, 'go-args');
    const gobinFile = join(box.root, 'go-gobin');
    script(
      join(box.bin, 'go'),
      [
        `printf '%s\\n' "$@" > '${argsFile}'`,
        `printf '%s' "$GOBIN" > '${gobinFile}'`,
        `echo 'go: downloading go.temporal.io/server v1.29.0' >&2`,
        `echo 'WORK=/tmp/go-build123' >&2`,
        `echo '/usr/local/go/pkg/tool/linux_amd64/compile -o $WORK/b001/_pkg_.a' >&2`,
        `echo 'go: downloading github.com/temporalio/ui-server/v2 v2.38.0' >&2`,
        `printf '#!/bin/sh\\necho built\\n' > "$GOBIN/temporal"`,
        `/bin/chmod 755 "$GOBIN/temporal"`,
      ].join('\n'),
    );
    const progress: string[] = [];
    const result = await resolveTemporalCli({
      env: box.env,
      allowSdkDownload: false,
      onProgress: (line) => progress.push(line),
    });
    const dir = cacheDir(box.env);
    assert.deepEqual(result, { kind: 'path', path: join(dir, 'temporal'), source: 'go install' });
    assert.deepEqual(readFileSync(argsFile, 'utf8').split('\n').filter(Boolean), [
      'install',
      '-x',
      `${TEMPORAL_CLI_MODULE}@v1.5.1`,
    ]);
    assert.equal(TEMPORAL_CLI_MODULE, 'github.com/temporalio/cli/cmd/temporal');
    assert.equal(readFileSync(gobinFile, 'utf8'), dir);
    assert.equal(progress.length, 4, progress.join('\n'));
    assert.equal(
      progress[0],
      `building Temporal CLI v1.5.1 with go install into ${dir} (first time only; takes minutes)`,
    );
    assert.equal(progress[1], '  go: downloading go.temporal.io/server v1.29.0');
    assert.equal(progress[2], '  go: downloading github.com/temporalio/ui-server/v2 v2.38.0');
    assert.match(progress[3]!, /^built Temporal CLI in \d+ s$/);

    // The next lookup finds the build in the cache without running go again.
    const again = await resolveTemporalCli({ env: { ...box.env, PATH: '' }, onProgress: () => {} });
    assert.deepEqual(again, { kind: 'path', path: join(dir, 'temporal'), source: 'cache' });
  });

  it('a fake go that exits 1: the attempts mention "go install failed" with its stderr tail', async () => {
    const box = sandbox();
    script(join(box.bin, 'go'), `echo 'go: module lookup disabled' >&2\necho 'build failed: boom' >&2\nexit 1`);
    const progress: string[] = [];
    const error = await notFound(
      resolveTemporalCli({ env: box.env, allowSdkDownload: false, onProgress: (line) => progress.push(line) }),
    );
    assert.equal(error.attempts.length, 4, error.attempts.join('\n'));
    assert.equal(error.attempts[0], `no cached build at ${box.cached}`);
    assert.equal(
      error.attempts[1],
      'go install failed (go install exited with 1: go: module lookup disabled | build failed: boom)',
    );
    assert.deepEqual(error.attempts.slice(2), ['no temporal on PATH', 'the SDK download was not allowed']);
    assert.ok(error.message.includes('go install failed'), error.message);
    assert.equal(progress.length, 1, 'only the "building" line; no "built" line after a failure');
    assert.match(progress[0]!, /^building Temporal CLI v1\.5\.1 with go install/);
  });

  it('a failed go install still falls back to temporal on PATH', async () => {
    const box = sandbox();
    script(join(box.bin, 'go'), 'exit 1');
    const onPath = script(join(box.bin, 'temporal'), 'echo path');
    const result = await resolveTemporalCli({ env: box.env, allowSdkDownload: false, onProgress: () => {} });
    assert.deepEqual(result, { kind: 'path', path: onPath, source: 'PATH' });
  });

  it('a go that exits 0 without producing the binary is reported as missing', async () => {
    const box = sandbox();
    script(join(box.bin, 'go'), 'exit 0');
    const error = await notFound(resolveTemporalCli({ env: box.env, allowSdkDownload: false, onProgress: () => {} }));
    assert.equal(error.attempts[1], `go install finished but ${box.cached} is missing`);
  });
});
