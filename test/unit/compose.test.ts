/**
 * Checks the deployment files against the code: docker-compose.yml, the Dockerfile and package.json must agree
 * with the env vars surecron reads (src/config.ts) and the scripts it runs, and compose must run the Temporal
 * cluster of `npm run cluster` (src/cluster/): the same server configuration template, schema steps and load
 * balancer settings.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { haproxyConfig } from '../../src/cluster/load-balancer.js';
import {
  dynamicConfigFile,
  planNodes,
  SERVER_CONFIG_ENV,
  serverConfigDir,
  temporalDatabases,
} from '../../src/cluster/temporal-nodes.js';
import { knownEnvVars } from '../../src/config.js';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  entrypoint?: string | string[];
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: string[];
  volumes?: string[];
  networks?: Record<string, { ipv4_address?: string } | null> | string[];
  healthcheck?: { test?: string | string[] };
  restart?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
}

// `merge`: the node services share settings through YAML merge keys (`<<: *temporal-node`), as compose reads them.
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  networks?: Record<string, { ipam?: { config?: { subnet?: string; ip_range?: string }[] } } | null>;
};
const dockerfile = read('Dockerfile');
const packageJson = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
const surecronServices = ['surecron-worker', 'surecron-api'] as const;

function service(name: string): Service {
  const found = compose.services[name];
  assert.ok(found, `service ${name} is missing`);
  return found;
}

/** The `environment` block as a map, whichever of the two compose forms it uses. */
function environment(name: string): Record<string, string> {
  const env = service(name).environment ?? {};
  const entries = Array.isArray(env)
    ? env.map((line) => [line.split('=')[0] ?? '', line.slice(line.indexOf('=') + 1)] as const)
    : Object.entries(env).map(([key, value]) => [key, String(value ?? '')] as const);
  return Object.fromEntries(entries);
}

/** Entrypoint and command together: what the container runs (list forms only, as this file uses). */
function argv(name: string): string[] {
  const { entrypoint, command } = service(name);
  const list = (value: string | string[] | undefined): string[] =>
    value === undefined ? [] : Array.isArray(value) ? value : value.split(/\s+/);
  return [...list(entrypoint), ...list(command)];
}

/** The script a one-shot job runs with `/bin/sh -c`, compose's `$$` unescaped. */
function script(name: string): string {
  const [shell, flag, body, ...rest] = argv(name);
  assert.equal(shell, '/bin/sh', name);
  assert.equal(flag, '-c', name);
  assert.equal(rest.length, 0, name);
  return (body ?? '').replaceAll('$$', '$');
}

/** The Temporal server nodes: every service running the server image. */
const temporalNodes = Object.keys(compose.services).filter((name) =>
  /^temporalio\/server:/.test(service(name).image ?? ''),
);

/** Every variable interpolated with `${VAR...}` or `$VAR` anywhere in the service (`$$` is a literal `$`). */
function interpolated(value: unknown): string[] {
  const text = JSON.stringify(value).replaceAll('$$', '');
  return [...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
}

describe('docker-compose.yml', () => {
  it('has the services of the production topology', () => {
    for (const name of [
      'postgresql',
      'temporal-schema',
      'temporal-1',
      'temporal-2',
      'temporal-lb',
      'temporal-namespace',
      'temporal-ui',
      'surecron-worker',
      'surecron-api',
    ])
      service(name);
    assert.deepEqual(temporalNodes, ['temporal-1', 'temporal-2']);
  });

  it('gives the surecron services only env vars that src/config.ts knows', () => {
    for (const name of surecronServices) {
      const keys = Object.keys(environment(name));
      assert.ok(keys.length > 0, `${name} has no environment`);
      for (const key of keys) assert.ok(knownEnvVars.includes(key), `${name}: ${key} is not in envSchema`);
    }
  });

  it('interpolates only known env vars in the surecron services', () => {
    for (const name of surecronServices) {
      for (const variable of interpolated(service(name))) {
        assert.ok(knownEnvVars.includes(variable), `${name}: \${${variable}} is not in envSchema`);
      }
    }
  });

  it('points both surecron services at the load balancer and the same namespace and task queue', () => {
    for (const name of surecronServices) {
      const env = environment(name);
      assert.equal(env.TEMPORAL_ADDRESS, 'temporal-lb:7233', name);
      assert.equal(env.TEMPORAL_NAMESPACE, '${TEMPORAL_NAMESPACE:-default}', name);
      assert.equal(env.SURECRON_TASK_QUEUE, '${SURECRON_TASK_QUEUE:-surecron}', name);
      assert.deepEqual(
        service(name).depends_on,
        { 'temporal-namespace': { condition: 'service_completed_successfully' } },
        name,
      );
    }
    assert.equal(environment('temporal-namespace').DEFAULT_NAMESPACE, '${TEMPORAL_NAMESPACE:-default}');
  });

  it('runs the API reachable from outside its container, with a required token, on 8080', () => {
    const api = service('surecron-api');
    const env = environment('surecron-api');
    assert.equal(env.SURECRON_API_HOST, '0.0.0.0');
    assert.equal(env.SURECRON_API_PORT, '8080');
    assert.equal(env.SURECRON_API_TOKEN, '${SURECRON_API_TOKEN:?set SURECRON_API_TOKEN}');
    assert.deepEqual(api.command, ['npm', 'run', 'start:api']);
    assert.deepEqual(api.ports, ['8080:8080']);
    assert.match(JSON.stringify(api.healthcheck?.test), /\/livez/);
  });

  it('runs the worker from the pre-built bundle and restarts it', () => {
    const worker = service('surecron-worker');
    assert.equal(environment('surecron-worker').SURECRON_WORKFLOW_BUNDLE, '/app/dist/workflow-bundle.js');
    assert.equal(worker.restart, 'unless-stopped');
    assert.equal(worker.command, undefined, 'the worker uses the image CMD');
  });

  it('builds the API and the worker from the repo Dockerfile', () => {
    for (const name of surecronServices) {
      const build = service(name).build;
      const context = typeof build === 'string' ? build : build?.context;
      const file = typeof build === 'string' ? undefined : build?.dockerfile;
      assert.equal(context, '.', name);
      assert.ok(file === undefined || file === 'Dockerfile', name);
      assert.equal(service(name).image, undefined, `${name} must not also pull an image`);
    }
  });

  it('pins the Temporal images, server and admin tools of one release (the 1.29.1 the cluster runs)', () => {
    const ui = service('temporal-ui').image ?? '';
    for (const name of temporalNodes) assert.equal(service(name).image, 'temporalio/server:1.29.1', name);
    for (const name of ['temporal-schema', 'temporal-namespace'])
      assert.match(service(name).image ?? '', /^temporalio\/admin-tools:1\.29\.1(-tctl-[\d.]+-cli-[\d.]+)?$/, name);
    assert.match(ui, /^temporalio\/ui:\d+\.\d+\.\d+$/);
    assert.equal(service('temporal-lb').image, 'haproxy:2.6');
    for (const name of Object.keys(compose.services)) assert.doesNotMatch(service(name).image ?? '', /latest/, name);
    assert.equal(environment('temporal-ui').TEMPORAL_ADDRESS, 'temporal-lb:7233');
    assert.deepEqual(service('temporal-ui').ports, ['8233:8080']);
    assert.deepEqual(service('temporal-lb').ports, ['127.0.0.1:7233:7233']);
  });

  it('wires Temporal to the postgres service and waits for it to be healthy, then for the schema', () => {
    // The template's plugin is fixed (no DB variable, unlike the image's own template): PostgreSQL 12+.
    assert.match(read('deploy/temporal/surecron.yaml'), /^\s+pluginName: postgres12$/m);
    assert.deepEqual(service('temporal-schema').depends_on, { postgresql: { condition: 'service_healthy' } });
    for (const name of temporalNodes) {
      const env = environment(name);
      assert.equal(env.POSTGRES_SEEDS, 'postgresql', name);
      assert.equal(env.DB_PORT, '5432', name);
      assert.equal(env.POSTGRES_PWD, '${POSTGRES_PASSWORD:-temporal}', name);
      const dependsOn = service(name).depends_on as Record<string, { condition?: string }>;
      assert.deepEqual(dependsOn['temporal-schema'], { condition: 'service_completed_successfully' }, name);
    }
    // One node after the other, as `npm run cluster` starts them: nodes starting together race for the metadata.
    const second = service('temporal-2').depends_on as Record<string, { condition?: string }>;
    assert.deepEqual(second['temporal-1'], { condition: 'service_healthy' });
    assert.match(service('postgresql').image ?? '', /^postgres:16/);
    assert.ok(service('postgresql').healthcheck?.test, 'postgresql has a healthcheck');
  });

  it('runs the one-shot jobs once and the long-running services with a restart policy', () => {
    for (const name of ['temporal-schema', 'temporal-namespace']) assert.equal(service(name).restart, 'no', name);
    for (const name of [...temporalNodes, 'postgresql', 'temporal-lb', 'temporal-ui', ...surecronServices])
      assert.equal(service(name).restart, 'unless-stopped', name);
  });

  it('gives every Temporal node a healthcheck on its own frontend', () => {
    for (const name of temporalNodes) {
      const test = service(name).healthcheck?.test;
      assert.ok(Array.isArray(test), name);
      assert.equal(test[0], 'CMD-SHELL', name);
      assert.match(
        test[1] ?? '',
        /^temporal operator cluster health --address "\$\$\{TEMPORAL_BROADCAST_ADDRESS\}:7233"$/,
      );
    }
  });

  it('registers the namespace through the load balancer, then waits for it on every node', () => {
    const body = script('temporal-namespace');
    const dependsOn = service('temporal-namespace').depends_on as Record<string, { condition?: string }>;
    for (const name of temporalNodes) assert.deepEqual(dependsOn[name], { condition: 'service_healthy' }, name);
    assert.deepEqual(dependsOn['temporal-lb'], { condition: 'service_started' });
    assert.match(body, /temporal operator namespace describe --address temporal-lb:7233 --namespace "\$ns"/);
    assert.match(
      body,
      /temporal operator namespace create --address temporal-lb:7233 --retention "\$\{RETENTION_DAYS\}d"/,
    );
    assert.match(body, /temporal operator namespace update --address temporal-lb:7233 --retention/);
    assert.equal(environment('temporal-namespace').RETENTION_DAYS, '${SURECRON_RETENTION_DAYS:-90}');
    assert.ok(knownEnvVars.includes('SURECRON_RETENTION_DAYS'), "the retention is surecron's own setting");
    assert.match(body, new RegExp(`for node in ${temporalNodes.join(' ')}; do`));
    assert.match(body, /namespace describe --address "\$node:7233"/);
  });
});

/**
 * The env vars deploy/temporal/surecron.yaml reads (`env "NAME"`), each with whether the template needs it set:
 * not when every read has a default (`default "x" (env "NAME")`) or only guards a block (`with env "NAME"`).
 */
function templateEnv(template: string): Map<string, boolean> {
  const reads = new Map<string, boolean>();
  for (const match of template.matchAll(
    /(default\s+"[^"]*"\s+\(\s*|\b(?:with|if)\s+)?env\s+"([A-Za-z_][A-Za-z0-9_]*)"/g,
  )) {
    const name = match[2] ?? '';
    const required = match[1] === undefined;
    reads.set(name, (reads.get(name) ?? false) || required);
  }
  return reads;
}

/** An IPv4 address as a number, for the subnet checks. */
function ipv4(address: string): number {
  const parts = address.split('.').map(Number);
  assert.ok(parts.length === 4 && parts.every((part) => Number.isInteger(part) && part >= 0 && part < 256), address);
  return parts.reduce((sum, part) => sum * 256 + part, 0);
}

function inCidr(address: string, cidr: string): boolean {
  const [base = '', bits = ''] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  const start = Math.floor(ipv4(base) / size) * size;
  return ipv4(address) >= start && ipv4(address) < start + size;
}

describe('compose and npm run cluster share the server configuration', () => {
  const template = read('deploy/temporal/surecron.yaml');
  const reads = templateEnv(template);
  const required = [...reads].filter(([, needed]) => needed).map(([name]) => name);
  const configDir = relative(fileURLToPath(root), serverConfigDir);

  /** The mount of ./deploy/temporal in a node service: the folder the server's --config names. */
  function configMount(name: string): { target: string; mode: string | undefined } {
    const mounts = (service(name).volumes ?? []).filter((volume) => volume.startsWith(`./${configDir}:`));
    assert.equal(mounts.length, 1, `${name} mounts ./${configDir} once`);
    const [, target = '', mode] = (mounts[0] ?? '').split(':');
    return { target, mode };
  }

  it('reads the template the cluster code names', () => {
    assert.equal(configDir, 'deploy/temporal');
    assert.equal(SERVER_CONFIG_ENV, 'surecron');
    assert.match(template, /^# enable-template$/m, 'the server renders the file as a template');
    // The parser finds what the template is known to need, and tells the optional reads from the required ones.
    for (const name of ['POSTGRES_SEEDS', 'POSTGRES_USER', 'POSTGRES_PWD', 'TEMPORAL_BROADCAST_ADDRESS'])
      assert.ok(required.includes(name), `${name} is required by the template`);
    for (const name of ['NUM_HISTORY_SHARDS', 'BIND_ON_IP', 'FRONTEND_GRPC_PORT', 'PROMETHEUS_ENDPOINT'])
      assert.equal(reads.get(name), false, `${name} is read, with a default or as a guard`);
  });

  it('uses no auto-setup image anywhere', () => {
    for (const name of Object.keys(compose.services)) {
      assert.doesNotMatch(service(name).image ?? '', /auto-setup/, name);
      assert.doesNotMatch(JSON.stringify(argv(name)), /autosetup|auto-setup/, name);
    }
  });

  it('runs every node on the template: ./deploy/temporal mounted, --config the mount, --env surecron', () => {
    assert.ok(temporalNodes.length >= 2, 'a cluster of at least two nodes');
    for (const name of temporalNodes) {
      const { target, mode } = configMount(name);
      assert.equal(mode, 'ro', `${name} mounts the config read-only`);
      assert.deepEqual(
        argv(name),
        ['temporal-server', '--root', '/', '--config', target, '--env', SERVER_CONFIG_ENV, '--allow-no-auth', 'start'],
        name,
      );
    }
  });

  it('sets in every node each env var the template needs without a default, and only vars it reads', () => {
    for (const name of temporalNodes) {
      const env = environment(name);
      for (const variable of required) assert.ok(env[variable], `${name}: ${variable} is not set`);
      for (const variable of Object.keys(env))
        assert.ok(reads.has(variable), `${name}: ${variable} is not read by deploy/temporal/surecron.yaml`);
      assert.equal(env.NUM_HISTORY_SHARDS, '16', name);
      assert.equal(env.BIND_ON_IP, '0.0.0.0', name);
    }
  });

  it('sets for a local node only env vars the template reads', async () => {
    const [node] = await planNodes(
      1,
      { host: '127.0.0.1', port: 5432, user: 'temporal', password: 'x', binDir: '', dataDir: '' },
      16,
    );
    assert.ok(node);
    const ignored = Object.keys(node.env).filter((name) => !reads.has(name));
    assert.deepEqual(ignored, [], 'env vars planNodes sets that the template ignores');
    for (const variable of required) assert.ok(node.env[variable], `a local node: ${variable} is not set`);
  });

  it('points DYNAMIC_CONFIG_FILE_PATH at dynamicconfig.yaml inside the mount', () => {
    const file = relative(serverConfigDir, dynamicConfigFile);
    assert.equal(file, 'dynamicconfig.yaml');
    for (const name of temporalNodes)
      assert.equal(environment(name).DYNAMIC_CONFIG_FILE_PATH, `${configMount(name).target}/${file}`, name);
  });

  it('gives every node its own fixed address on the network to broadcast, outside the dynamic range', () => {
    const ipam = compose.networks?.default?.ipam?.config?.[0];
    assert.ok(ipam?.subnet && ipam.ip_range, 'the default network has a subnet and an ip_range');
    const addresses = temporalNodes.map((name) => {
      const networks = service(name).networks;
      assert.ok(networks && !Array.isArray(networks), name);
      const address = networks.default?.ipv4_address ?? '';
      assert.equal(environment(name).TEMPORAL_BROADCAST_ADDRESS, address, `${name} broadcasts its own address`);
      assert.ok(inCidr(address, ipam.subnet ?? ''), `${name}: ${address} is in ${ipam.subnet}`);
      assert.ok(!inCidr(address, ipam.ip_range ?? ''), `${name}: ${address} is outside ${ipam.ip_range}`);
      return address;
    });
    assert.equal(new Set(addresses).size, addresses.length, 'the node addresses differ');
  });

  it('runs both schema steps of setUpSchemas in the schema job', () => {
    const body = script('temporal-schema');
    assert.match(body, /^set -eu$/m, 'a failed step fails the job');
    assert.match(body, /temporal-sql-tool --plugin postgres12 --ep postgresql -p 5432 -u temporal "\$@"/);
    assert.deepEqual(
      temporalDatabases.map(({ schema }) => schema),
      ['postgresql/v12/temporal', 'postgresql/v12/visibility'],
    );
    for (const { name, schema } of temporalDatabases) {
      const steps = [
        `sql --db ${name} create-database`,
        `sql --db ${name} setup-schema -v 0.0`,
        `sql --db ${name} update-schema --schema-name ${schema}`,
      ];
      const positions = steps.map((step) => body.split('\n').indexOf(step));
      for (const [index, step] of steps.entries()) assert.ok(positions[index]! >= 0, `missing: ${step}`);
      assert.deepEqual(
        [...positions].sort((a, b) => a - b),
        positions,
        `${name}: the steps in order`,
      );
    }
    assert.equal(environment('temporal-schema').SQL_PASSWORD, '${POSTGRES_PASSWORD:-temporal}');
  });

  it('puts HAProxy in front of every node with the settings of the local load balancer', () => {
    const config = read('deploy/haproxy/haproxy.cfg');
    assert.ok(
      (service('temporal-lb').volumes ?? []).includes(
        './deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
      ),
    );
    const backends = temporalNodes.map((name) => {
      const networks = service(name).networks as Record<string, { ipv4_address?: string }>;
      const address = `${networks.default?.ipv4_address}:7233`;
      assert.match(config, new RegExp(`^  server ${name} ${address.replaceAll('.', '\\.')} proto h2 check\\b`, 'm'));
      return { name, address };
    });
    const lines = (text: string): string[] => text.split('\n').filter((line) => line.trim() && !line.startsWith('#'));
    assert.deepEqual(lines(config), lines(haproxyConfig(':7233', backends)));
  });
});

describe('Dockerfile', () => {
  it('sets SURECRON_WORKFLOW_BUNDLE to the bundle built in the image', () => {
    assert.match(dockerfile, /SURECRON_WORKFLOW_BUNDLE=\/app\/dist\/workflow-bundle\.js/);
    assert.match(dockerfile, /npm run build:bundle -- \/app\/dist\/workflow-bundle\.js/);
  });

  it('runs as a non-root user in the final stage', () => {
    const finalStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const users = [...finalStage.matchAll(/^USER\s+(\S+)/gm)].map((match) => match[1]);
    assert.ok(users.length > 0, 'the final stage sets USER');
    assert.doesNotMatch(users.at(-1) ?? '', /^(root|0)(:|$)/);
  });

  it('defaults to the worker', () => {
    assert.match(dockerfile, /^CMD \["npm", "run", "start:worker"\]$/m);
  });
});

describe('package.json', () => {
  it('has the scripts the image runs', () => {
    assert.equal(packageJson.scripts['start:worker'], 'tsx src/worker.ts');
    assert.equal(packageJson.scripts['start:api'], 'tsx src/api-server.ts');
    assert.equal(packageJson.scripts['build:bundle'], 'tsx scripts/build-workflow-bundle.ts');
  });
});
