/**
 * Checks the deployment files against the code: docker-compose.yml, the Dockerfile and package.json must agree
 * with the env vars surecron reads (src/config.ts) and the scripts it runs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { knownEnvVars } from '../../src/config.js';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: string[];
  healthcheck?: { test?: string | string[] };
  restart?: string;
  depends_on?: Record<string, { condition?: string }> | string[];
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, Service> };
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

/** Every variable interpolated with `${VAR...}` or `$VAR` anywhere in the service (`$$` is a literal `$`). */
function interpolated(value: unknown): string[] {
  const text = JSON.stringify(value).replaceAll('$$', '');
  return [...text.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1] ?? '');
}

describe('docker-compose.yml', () => {
  it('has the five services of the production topology', () => {
    for (const name of ['postgresql', 'temporal', 'temporal-ui', 'surecron-worker', 'surecron-api']) service(name);
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

  it('points both surecron services at the temporal service and the same namespace and task queue', () => {
    for (const name of surecronServices) {
      const env = environment(name);
      assert.equal(env.TEMPORAL_ADDRESS, 'temporal:7233', name);
      assert.equal(env.TEMPORAL_NAMESPACE, '${TEMPORAL_NAMESPACE:-default}', name);
      assert.equal(env.SURECRON_TASK_QUEUE, '${SURECRON_TASK_QUEUE:-surecron}', name);
      assert.deepEqual(service(name).depends_on, { temporal: { condition: 'service_healthy' } }, name);
    }
    assert.equal(environment('temporal').DEFAULT_NAMESPACE, '${TEMPORAL_NAMESPACE:-default}');
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

  it('pins the Temporal images', () => {
    const temporal = service('temporal').image ?? '';
    const ui = service('temporal-ui').image ?? '';
    assert.match(temporal, /^temporalio\/auto-setup:1\.29\.\d+$/);
    assert.match(ui, /^temporalio\/ui:\d+\.\d+\.\d+$/);
    for (const image of [temporal, ui]) assert.doesNotMatch(image, /latest/);
    assert.equal(environment('temporal-ui').TEMPORAL_ADDRESS, 'temporal:7233');
    assert.deepEqual(service('temporal-ui').ports, ['8233:8080']);
  });

  it('wires Temporal to the postgres service and waits for it to be healthy', () => {
    const env = environment('temporal');
    assert.equal(env.DB, 'postgres12');
    assert.equal(env.POSTGRES_SEEDS, 'postgresql');
    assert.deepEqual(service('temporal').depends_on, { postgresql: { condition: 'service_healthy' } });
    assert.match(service('postgresql').image ?? '', /^postgres:16/);
    assert.ok(service('postgresql').healthcheck?.test, 'postgresql has a healthcheck');
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
    assert.equal(packageJson.scripts['start:api'], 'tsx src/api/server.ts');
    assert.equal(packageJson.scripts['build:bundle'], 'tsx scripts/build-workflow-bundle.ts');
  });
});
