/**
 * The parts of `npm run cluster` that need no cluster: the load balancer's configuration, the node plan, the fixed
 * shard count, the `/readyz` membership check, the environment handed to child processes, and the supervisor
 * (restart with backoff, `cluster.json`, stopping, leftovers of a killed supervisor) on real `sleep` processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { haproxyConfig } from '../../src/cluster/load-balancer.js';
import { killLeftovers, liveSupervisor, Supervisor, type ClusterProcessEntry } from '../../src/cluster/supervisor.js';
import { fixShardCount, planNodes, TemporalSetupError } from '../../src/cluster/temporal-nodes.js';
import { childEnv, loadConfig } from '../../src/config.js';
import { clusterCheck } from '../../src/temporal/readiness.js';
import { alive } from '../helpers/processes.js';
import { sleep } from '../helpers/time.js';

const dirs: string[] = [];
const dir = (): string => {
  const made = mkdtempSync(join(tmpdir(), 'surecron-cluster-unit-'));
  dirs.push(made);
  return made;
};
after(() => dirs.forEach((made) => rmSync(made, { recursive: true, force: true })));
const readEntries = (file: string): ClusterProcessEntry[] =>
  (JSON.parse(readFileSync(file, 'utf8')) as { processes: ClusterProcessEntry[] }).processes;

describe('haproxyConfig', () => {
  const config = haproxyConfig('127.0.0.1:7233', [
    { name: 'temporal-1', address: '127.0.0.1:21000' },
    { name: 'temporal-2', address: '127.0.0.1:22000' },
  ]);
  it('speaks HTTP/2 on both sides, one checked server line per frontend', () => {
    assert.match(config, /^ {2}bind 127\.0\.0\.1:7233 proto h2$/m);
    assert.match(config, /^ {2}server temporal-1 127\.0\.0\.1:21000 proto h2 check inter 1s fall 2 rise 2$/m);
    assert.match(config, /^ {2}server temporal-2 127\.0\.0\.1:22000 proto h2 check inter 1s fall 2 rise 2$/m);
    assert.equal(config.match(/^ {2}server /gm)?.length, 2);
  });
  it('never cuts a long poll: client and server timeouts are 5 minutes (Temporal polls for about 70 s)', () => {
    assert.match(config, /^ {2}timeout client 5m$/m);
    assert.match(config, /^ {2}timeout server 5m$/m);
  });
});

describe('planNodes', () => {
  it('gives every service of every node its own ports, all below 32768 (the membership table keeps a smallint)', async () => {
    const postgres = { host: '127.0.0.1', port: 5432, user: 'temporal', password: 'pw', binDir: '', dataDir: '' };
    const nodes = await planNodes(3, postgres, 16);
    assert.deepEqual(
      nodes.map((node) => node.name),
      ['temporal-1', 'temporal-2', 'temporal-3'],
    );
    const ports = nodes.flatMap((node) => [
      ...Object.values(node.servicePorts),
      ...node.membershipPorts,
      Number(node.env.FRONTEND_HTTP_PORT),
    ]);
    assert.equal(ports.length, 27);
    assert.equal(new Set(ports).size, 27, 'no port is used twice');
    assert.ok(
      ports.every((port) => port >= 20_000 && port < 32_768),
      `ports ${ports.join(',')}`,
    );
    for (const node of nodes) {
      assert.equal(node.env.NUM_HISTORY_SHARDS, '16');
      assert.equal(node.env.POSTGRES_PWD, 'pw');
      assert.equal(node.env.DB_PORT, '5432');
      assert.equal(Number(node.env.FRONTEND_GRPC_PORT), node.frontendPort);
    }
  });
});

describe('fixShardCount', () => {
  it('keeps the first count and refuses another one later, naming both', () => {
    const data = dir();
    assert.equal(fixShardCount(data, 16), 16);
    assert.equal(fixShardCount(data, 16), 16);
    assert.throws(
      () => fixShardCount(data, 32),
      (error: unknown) =>
        error instanceof TemporalSetupError &&
        error.message.startsWith('SURECRON_CLUSTER_SHARDS=32, but this data dir was set up with 16 history shards'),
    );
  });
});

describe('clusterCheck (/readyz on a cluster)', () => {
  const write = (members: unknown): string => {
    const file = join(dir(), 'cluster.json');
    writeFileSync(file, JSON.stringify({ processes: [], members }));
    return file;
  };
  const now = (): string => new Date().toISOString();
  it('is ok once every node joined', async () => {
    const file = write({ expected: 3, joined: ['temporal-1', 'temporal-2', 'temporal-3'], checkedAt: now() });
    assert.deepEqual(await clusterCheck(file), { ok: true, detail: 'ok (3/3 nodes joined)' });
  });
  it('is not ok while a node is missing', async () => {
    const file = write({ expected: 3, joined: ['temporal-1', 'temporal-3'], checkedAt: now() });
    assert.deepEqual(await clusterCheck(file), { ok: false, detail: '2/3 nodes joined' });
  });
  it('does not believe a report older than 15 s (the supervisor is gone)', async () => {
    const old = new Date(Date.now() - 60_000).toISOString();
    const file = write({ expected: 1, joined: ['temporal-1'], checkedAt: old });
    assert.deepEqual(await clusterCheck(file), { ok: false, detail: 'membership report is 60 s old' });
  });
  it('is not ok without a file', async () => {
    const result = await clusterCheck(join(dir(), 'missing.json'));
    assert.equal(result.ok, false);
    assert.match(result.detail, /^unknown: ENOENT/);
  });
});

describe('childEnv', () => {
  it('takes surecron variables from the config alone and passes everything else on', () => {
    const config = loadConfig({ SURECRON_API_PORT: '9999' });
    const env = childEnv(config, { PATH: '/bin', TEMPORAL_ADDRESS: 'elsewhere:7233', SURECRON_API_PORT: '1' });
    assert.equal(env.PATH, '/bin');
    assert.equal(env.SURECRON_API_PORT, '9999');
    assert.equal(env.TEMPORAL_ADDRESS, undefined, 'an inherited TEMPORAL_ADDRESS is not passed on');
    assert.equal(env.SURECRON_CLUSTER_NODES, '3');
  });
});

describe('Supervisor', () => {
  it('restarts a killed process with a new pid, keeps cluster.json current, and stops everything', async () => {
    const data = dir();
    const file = join(data, 'cluster.json');
    const supervisor = new Supervisor(file, pino({ level: 'silent' }));
    for (const name of ['one', 'two'])
      supervisor.start({
        role: 'worker',
        name,
        address: name,
        command: '/usr/bin/sleep',
        args: ['300'],
        logFile: join(data, `${name}.log`),
        stopTimeoutMs: 2_000,
      });
    try {
      const first = readEntries(file).find((entry) => entry.name === 'one');
      assert.ok(first?.pid && alive(first.pid));
      process.kill(first.pid, 'SIGKILL');
      let restarted: ClusterProcessEntry | undefined;
      for (let waited = 0; waited < 5_000 && !restarted; waited += 100) {
        await sleep(100);
        restarted = readEntries(file).find((entry) => entry.name === 'one' && entry.pid && entry.pid !== first.pid);
      }
      assert.ok(restarted?.pid, 'restarted within 5 s (first backoff 0.5 s)');
      assert.equal(restarted.restarts, 1);
      assert.equal(restarted.command, '/usr/bin/sleep');
      assert.ok(alive(restarted.pid));
      const pids = readEntries(file).map((entry) => entry.pid as number);
      await supervisor.stop();
      assert.deepEqual(
        readEntries(file).map((entry) => entry.pid),
        [null, null],
      );
      assert.deepEqual(
        pids.filter((pid) => alive(pid)),
        [],
        'nothing left running',
      );
    } finally {
      await supervisor.stop();
    }
  });

  it('after a hard kill of the supervisor, the next start kills only what it had started', async () => {
    const data = dir();
    const file = join(data, 'cluster.json');
    const ours = spawn('/usr/bin/sleep', ['300'], { detached: true, stdio: 'ignore' });
    const other = spawn('/usr/bin/sleep', ['301'], { detached: true, stdio: 'ignore' });
    try {
      const entry = (name: string, pid: number | undefined, command: string): ClusterProcessEntry => ({
        role: 'worker',
        name,
        pid: pid ?? null,
        address: '-',
        restarts: 0,
        command,
      });
      writeFileSync(
        file,
        JSON.stringify({
          processes: [entry('ours', ours.pid, '/usr/bin/sleep'), entry('reused', other.pid, '/usr/bin/postgres')],
        }),
      );
      assert.deepEqual(killLeftovers(file), ['ours']);
      await sleep(200);
      assert.equal(alive(ours.pid as number), false, 'the leftover is killed');
      assert.equal(alive(other.pid as number), true, 'a pid now running something else is left alone');
    } finally {
      ours.kill('SIGKILL');
      other.kill('SIGKILL');
    }
  });

  it('knows a cluster already runs on a data dir by its live supervisor, and only then', async () => {
    const file = join(dir(), 'cluster.json');
    const node = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    const sleeper = spawn('/usr/bin/sleep', ['30'], { stdio: 'ignore' });
    try {
      await sleep(200);
      const claim = (pid: number | undefined): void =>
        writeFileSync(file, JSON.stringify({ processes: [], supervisor: pid }));
      claim(node.pid);
      assert.equal(liveSupervisor(file), node.pid, 'a running node process holds the data dir');
      claim(sleeper.pid);
      assert.equal(liveSupervisor(file), undefined, 'a reused pid running something else does not');
      claim(process.pid);
      assert.equal(liveSupervisor(file), undefined, 'this process itself does not');
      node.kill('SIGKILL');
      await sleep(200);
      claim(node.pid);
      assert.equal(liveSupervisor(file), undefined, 'a dead supervisor does not');
    } finally {
      node.kill('SIGKILL');
      sleeper.kill('SIGKILL');
    }
  });
});
