import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import madge from 'madge';
import { workflowTypes } from '../../src/contract/workflow-types.js';
import * as surecronWorkflows from '../../src/workflows/index.js';

const root = new URL('../..', import.meta.url).pathname;

/** The rule ids ESLint reports for `code` as if it were the file at `path` (relative to the repo). */
async function lintAs(path: string, code: string): Promise<string[]> {
  const [result] = await new ESLint({ cwd: root }).lintText(code, { filePath: join(root, path) });
  return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
}

describe('layers', () => {
  it('lint refuses an import from a higher layer, a type import included', async () => {
    const messages = await lintAs(
      'src/tasks/rules.ts',
      "import type { HandlerRegistry } from '../activities/handler.js';\nexport type Registry = HandlerRegistry;\n",
    );
    assert.equal(messages.length, 1, messages.join('\n'));
    assert.match(messages[0] ?? '', /^import-x\/no-restricted-paths: .*src\/tasks may import only from its own layer/);
  });

  it('lint refuses the contract importing anything of surecron above it', async () => {
    const messages = await lintAs(
      'src/contract/run.ts',
      "import { taskDefaults } from '../tasks/task-defaults.js';\nexport const defaults = taskDefaults;\n",
    );
    assert.ok(
      messages.some((m) => m.startsWith('import-x/no-restricted-paths: ')),
      messages.join('\n'),
    );
  });

  it('lint accepts an import from a lower layer', async () => {
    const messages = await lintAs(
      'src/activities/run-handler.ts',
      "import type { TaskSpec } from '../tasks/spec.js';\nexport type Spec = TaskSpec;\n",
    );
    assert.deepEqual(messages, []);
  });

  it('the module graph of src/ has no cycle, type imports included', async () => {
    const graph = await madge(join(root, 'src'), {
      fileExtensions: ['ts'],
      tsConfig: join(root, 'tsconfig.json'),
      detectiveOptions: { ts: { skipTypeImports: false } },
    });
    assert.ok(Object.keys(graph.obj()).length > 100, 'madge found the modules');
    assert.deepEqual(graph.circular(), []);
  });

  it('every workflow type of the contract is exported under its name by src/workflows', () => {
    for (const name of Object.values(workflowTypes)) {
      assert.equal(typeof (surecronWorkflows as Record<string, unknown>)[name], 'function', name);
    }
    assert.deepEqual(Object.keys(surecronWorkflows).sort(), Object.values(workflowTypes).sort());
  });
});
