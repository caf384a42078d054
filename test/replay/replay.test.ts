import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { bundleWorkflowCode, Worker, type ReplayResult } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { silentSdkLogger } from '../../src/temporal/runtime-logger.js';
import { quietRuntime } from '../helpers/temporal.js';

const dir = new URL('./histories/', import.meta.url).pathname;
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));

/** The workflow type recorded in a history file's first event. */
function workflowType(file: string): string | undefined {
  const history = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
    events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
  };
  return history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name;
}

async function replayAll(workflowBundle: { code: string } | { codePath: string }): Promise<ReplayResult[]> {
  quietRuntime();
  const histories = files.map((file) => ({
    workflowId: file.replace(/\.json$/, ''),
    history: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown,
  }));
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'surecron-replay' }, histories)) {
    results.push(result);
  }
  return results;
}

/**
 * Replays histories recorded from earlier workflow code (`npm run record:histories`) against today's
 * workflows: a change that would break running workflows fails here, not in production.
 */
describe('replay of recorded histories', () => {
  it('every recorded history replays against the current workflow code', async () => {
    const bundlePath = process.env.SURECRON_TEST_BUNDLE;
    assert.ok(bundlePath, 'npm test provides the workflow bundle');
    const results = await replayAll({ codePath: bundlePath });
    assert.equal(results.length, files.length);
    assert.ok(files.length >= 7, `recorded histories: ${files.join(', ')}`);
    for (const result of results)
      assert.equal(result.error, undefined, `${result.workflowId}: ${String(result.error)}`);
  });

  it('a nondeterministic change to runTask fails the replay', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: new URL('./fixtures/nondeterministic.ts', import.meta.url).pathname,
      logger: silentSdkLogger,
    });
    const results = await replayAll(bundle);
    const broken = results.filter((r) => r.error instanceof DeterminismViolationError).map((r) => r.workflowId);
    const intact = results.filter((r) => r.error === undefined).map((r) => r.workflowId);
    const runTaskHistories = files.filter((f) => workflowType(f) === 'runTask').map((f) => f.replace(/\.json$/, ''));
    assert.ok(runTaskHistories.length >= 10);
    assert.deepEqual(broken.sort(), runTaskHistories.sort(), 'every runTask history is flagged');
    assert.equal(intact.length, files.length - runTaskHistories.length, 'every other workflow still replays');
  });
});
