import js from '@eslint/js';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'node:*',
  'fs',
  'path',
  'os',
  'crypto',
  'http',
  'https',
  'net',
  'child_process',
  'url',
  'util',
  'stream',
];

/**
 * The layers of src/, bottom first: a module may import from its own layer and the ones below, never from above
 * (types included). README "Layout" draws the same picture.
 */
const layers = [
  ['contract'],
  ['util', 'security', 'logger.ts', 'config.ts', 'metrics', 'temporal', 'client.ts'],
  ['cron'],
  ['tasks'],
  ['runs'],
  ['alerting'],
  ['activities'],
  ['workflows'],
  ['user'],
  ['api', 'cli'],
  ['boot', 'testing', 'cluster', 'worker-runtime.ts', 'main.ts', 'worker.ts', 'api-server.ts', 'apply.ts'],
];
const layerZones = layers.slice(0, -1).flatMap((layer, index) =>
  layer.map((target) => ({
    target: `./src/${target}`,
    from: layers.slice(index + 1).flatMap((above) => above.map((name) => `./src/${name}`)),
    message: `src/${target} may import only from its own layer and those below it (eslint.config.mjs \`layers\`, README "Layout")`,
  })),
);

/** Modules that run in Temporal's deterministic workflow sandbox. */
const workflowSandbox = [
  'src/workflows/**/*.ts',
  'src/contract/**/*.ts',
  'src/user/workflows.ts',
  'src/boot/workflows.ts',
  'examples/sync-orders.ts',
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.data/', 'test-results/', 'bench/results/', 'scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { 'import-x': importX },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'error',
      'import-x/no-cycle': 'error',
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            ...layerZones,
            {
              target: './src',
              from: './examples',
              message: 'The product never imports examples/: the seed examples are tested examples, not run-time code.',
            },
          ],
        },
      ],
    },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
  },
  {
    // Workflow code runs in Temporal's deterministic sandbox: only @temporalio/workflow and types.
    files: workflowSandbox,
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'Workflows are deterministic: no Node built-ins.' },
            {
              // An allow-list: everything else is refused, types excepted.
              regex: String.raw`^(?!@temporalio/workflow$|\./[\w.-]+\.js$|\.\./(contract|workflows|user)/[\w.-]+\.js$)`,
              allowTypeImports: true,
              message:
                'Workflows may import only @temporalio/workflow, other workflow modules, the contract and types.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
);
