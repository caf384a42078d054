import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  SERVER_CONFIG_ENV,
  serverArgs,
  serverConfigDir,
  serverPortsEnv,
  SQLITE_ZONE,
} from '../../src/temporal/server-config.js';

describe('the server template and its SQLite overlay', () => {
  it('loads surecron_sqlite.yaml after surecron.yaml with --zone sqlite, and nothing else without a zone', () => {
    assert.deepEqual(serverArgs(), [
      '--root',
      '/',
      '--config',
      serverConfigDir,
      '--env',
      'surecron',
      '--allow-no-auth',
      'start',
    ]);
    const zoned = serverArgs(SQLITE_ZONE);
    assert.deepEqual(zoned.slice(zoned.indexOf('--zone'), zoned.indexOf('--zone') + 2), ['--zone', 'sqlite']);
    // The server's loader reads <env>.yaml, then <env>_<zone>.yaml, from the config dir.
    const overlay = readFileSync(join(serverConfigDir, `${SERVER_CONFIG_ENV}_${SQLITE_ZONE}.yaml`), 'utf8');
    assert.match(overlay, /^# enable-template$/m);
    const reads = [...overlay.matchAll(/env "(\w+)"/g)].map((match) => match[1]);
    assert.deepEqual([...new Set(reads)].sort(), ['SQLITE_FILE', 'SQLITE_SYNCHRONOUS', 'SQLITE_VISIBILITY_FILE']);
  });

  it('gives one server its own ports, the frontend on the one asked for, the others below 32768', async () => {
    const taken = new Set<number>();
    const env = await serverPortsEnv(taken, 40_123);
    assert.equal(env.FRONTEND_GRPC_PORT, '40123');
    const others = Object.entries(env)
      .filter(([name]) => name !== 'FRONTEND_GRPC_PORT')
      .map(([, port]) => Number(port));
    assert.equal(others.length, 8, Object.keys(env).join(','));
    assert.equal(new Set(others).size, 8, 'no port twice');
    assert.ok(others.every((port) => port >= 20_000 && port < 32_768));
    assert.deepEqual([...taken].sort(), [...others].sort(), 'every port handed out is recorded as taken');
  });
});
