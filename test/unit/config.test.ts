import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { ConfigError, knownEnvVars, loadConfig } from '../../src/config.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Asserts that loadConfig(env) throws a ConfigError, and returns it. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    return error;
  }
  assert.fail(`loadConfig(${JSON.stringify(env)}) did not throw`);
}

describe('loadConfig', () => {
  it('applies the documented defaults to an empty environment', () => {
    const config = loadConfig({});
    assert.equal(config.SURECRON_API_PORT, 8080);
    assert.equal(config.TEMPORAL_PORT, 7233);
    assert.equal(config.TEMPORAL_UI_PORT, 8233);
    assert.equal(config.SURECRON_DATA_DIR, '.data');
    assert.equal(config.TEMPORAL_NAMESPACE, 'default');
    assert.equal(config.TEMPORAL_ADDRESS, undefined);
    assert.equal(config.SURECRON_API_HOST, '127.0.0.1');
    assert.equal(config.SURECRON_API_RATE_LIMIT, 3000);
    assert.equal(config.SURECRON_WORKER_METRICS_HOST, '127.0.0.1');
    assert.equal(config.SURECRON_WORKER_METRICS_PORT, undefined);
    assert.equal(config.SURECRON_TASK_QUEUE, 'surecron');
    assert.equal(config.SURECRON_LOG_LEVEL, 'info');
    assert.equal(config.SURECRON_LOG_FORMAT, 'auto');
    assert.equal(config.SURECRON_API_TOKEN, undefined);
    assert.equal(config.SURECRON_HTTP_ALLOWLIST, undefined);
    assert.equal(config.TEMPORAL_CLI, undefined);
    assert.equal(config.SURECRON_WORKFLOW_BUNDLE, undefined);
  });

  it('takes overrides from the environment, coercing ports to numbers', () => {
    const config = loadConfig({
      SURECRON_API_PORT: '9090',
      TEMPORAL_PORT: '17233',
      TEMPORAL_UI_PORT: '18233',
      SURECRON_DATA_DIR: '/var/lib/surecron',
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_NAMESPACE: 'prod',
      SURECRON_API_TOKEN: 'abcdefghijklmnop',
      SURECRON_HTTP_ALLOWLIST: 'example.com,10.0.0.0/8',
      SURECRON_LOG_LEVEL: 'debug',
      SURECRON_LOG_FORMAT: 'json',
      SURECRON_TASK_QUEUE: 'jobs',
      SURECRON_API_RATE_LIMIT: '600',
    });
    assert.equal(config.SURECRON_API_PORT, 9090);
    assert.equal(config.TEMPORAL_PORT, 17233);
    assert.equal(config.TEMPORAL_UI_PORT, 18233);
    assert.equal(config.SURECRON_DATA_DIR, '/var/lib/surecron');
    assert.equal(config.TEMPORAL_ADDRESS, 'temporal.internal:7233');
    assert.equal(config.TEMPORAL_NAMESPACE, 'prod');
    assert.equal(config.SURECRON_API_TOKEN, 'abcdefghijklmnop');
    assert.equal(config.SURECRON_HTTP_ALLOWLIST, 'example.com,10.0.0.0/8');
    assert.equal(config.SURECRON_LOG_LEVEL, 'debug');
    assert.equal(config.SURECRON_LOG_FORMAT, 'json');
    assert.equal(config.SURECRON_TASK_QUEUE, 'jobs');
    assert.equal(config.SURECRON_API_RATE_LIMIT, 600);
  });

  it('accepts the port bounds 1 and 65535', () => {
    assert.equal(loadConfig({ SURECRON_API_PORT: '1' }).SURECRON_API_PORT, 1);
    assert.equal(loadConfig({ SURECRON_API_PORT: '65535' }).SURECRON_API_PORT, 65535);
  });

  const bad: [variable: string, value: string][] = [
    ['SURECRON_API_PORT', 'abc'],
    ['SURECRON_API_PORT', '70000'],
    ['SURECRON_API_PORT', '0'],
    ['SURECRON_API_PORT', '80.5'],
    ['TEMPORAL_PORT', '-1'],
    ['TEMPORAL_UI_PORT', '65536'],
    ['SURECRON_LOG_LEVEL', 'loud'],
    ['SURECRON_LOG_FORMAT', 'xml'],
    ['SURECRON_API_RATE_LIMIT', '0'],
    ['SURECRON_API_RATE_LIMIT', 'lots'],
  ];
  for (const [variable, value] of bad) {
    it(`${variable}=${value} throws a ConfigError naming ${variable}`, () => {
      const error = configError({ [variable]: value });
      assert.equal(error.variable, variable);
      assert.equal(error.name, 'ConfigError');
      assert.ok(error.message.startsWith(`invalid ${variable}`), error.message);
      assert.ok(error.message.startsWith(`invalid ${variable}=${JSON.stringify(value)}: `), error.message);
    });
  }

  it('a too-short SURECRON_API_TOKEN throws a ConfigError that never echoes the token', () => {
    const token = 'short-secret-7';
    const error = configError({ SURECRON_API_TOKEN: token });
    assert.equal(error.variable, 'SURECRON_API_TOKEN');
    assert.ok(error.message.startsWith('invalid SURECRON_API_TOKEN'), error.message);
    assert.match(error.message, /at least 16 characters/);
    assert.ok(!error.message.includes(token), `message leaks the token: ${error.message}`);
    assert.ok(!error.message.includes('short-secret'), `message leaks part of the token: ${error.message}`);
  });

  it('a 15-character token is refused and a 16-character token is accepted', () => {
    assert.equal(configError({ SURECRON_API_TOKEN: 'x'.repeat(15) }).variable, 'SURECRON_API_TOKEN');
    assert.equal(loadConfig({ SURECRON_API_TOKEN: 'x'.repeat(16) }).SURECRON_API_TOKEN, 'x'.repeat(16));
  });

  it('the first invalid variable is reported when several are bad', () => {
    const error = configError({ SURECRON_API_PORT: 'abc', SURECRON_LOG_LEVEL: 'loud' });
    assert.equal(error.variable, 'SURECRON_API_PORT');
  });

  it('empty strings for optional variables mean unset', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: '',
      SURECRON_API_TOKEN: '',
      SURECRON_HTTP_ALLOWLIST: '',
      TEMPORAL_CLI: '',
      SURECRON_WORKFLOW_BUNDLE: '',
    });
    assert.equal(config.TEMPORAL_ADDRESS, undefined);
    assert.equal(config.SURECRON_API_TOKEN, undefined);
    assert.equal(config.SURECRON_HTTP_ALLOWLIST, undefined);
    assert.equal(config.TEMPORAL_CLI, undefined);
    assert.equal(config.SURECRON_WORKFLOW_BUNDLE, undefined);
  });

  it('whitespace-only optional values also mean unset', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: '   ', SURECRON_API_TOKEN: ' ' });
    assert.equal(config.TEMPORAL_ADDRESS, undefined);
    assert.equal(config.SURECRON_API_TOKEN, undefined);
  });

  it('knownEnvVars includes every contract name', () => {
    for (const name of [
      'SURECRON_API_PORT',
      'TEMPORAL_PORT',
      'TEMPORAL_UI_PORT',
      'SURECRON_DATA_DIR',
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'SURECRON_API_TOKEN',
      'SURECRON_HTTP_ALLOWLIST',
    ]) {
      assert.ok(knownEnvVars.includes(name), `knownEnvVars lacks ${name}`);
    }
  });
});

describe('npx tsx src/main.ts with a bad SURECRON_API_PORT', () => {
  it('exits non-zero with exactly one stderr line naming SURECRON_API_PORT', () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      SURECRON_API_PORT: 'abc',
      TEMPORAL_ADDRESS: '127.0.0.1:1',
      // npm's own warnings (e.g. about the machine's npmrc) are not surecron's output.
      npm_config_loglevel: 'error',
    };
    delete env.SURECRON_API_TOKEN;
    const result = spawnSync('npx', ['tsx', 'src/main.ts'], {
      cwd: root,
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.error, undefined);
    assert.notEqual(result.status, 0, `exit status ${result.status}`);
    assert.equal(result.status, 1);
    const lines = result.stderr.split('\n').filter((line) => line.trim() !== '');
    assert.equal(lines.length, 1, `stderr: ${result.stderr}`);
    assert.match(lines[0]!, /^surecron: invalid SURECRON_API_PORT="abc": /);
    assert.ok(!/\n\s+at /.test(result.stderr), 'no stack trace');
  });
});
