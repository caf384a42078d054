import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker, type ReplayResult } from '@temporalio/worker';
import type { UserCode } from '../activities/user-code.js';
import { userWorkflowBundle } from './bundle.js';
import { quietRuntime } from './environment.js';

/** A workflow history to replay: the JSON `temporal workflow show --output json` prints, or `fetchHistory()`'s. */
export interface SavedHistory {
  workflowId: string;
  history: unknown;
}

/** Every `*.json` history in `dir`, named by its file name without `.json`. */
export function loadHistories(dir: string): SavedHistory[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      workflowId: file.replace(/\.json$/, ''),
      history: JSON.parse(readFileSync(join(dir, file), 'utf8')) as unknown,
    }));
}

/**
 * Replays saved histories against today's workflow code: surecron's workflows and those of
 * `code.workflowsPath`. A result with an `error` (a `DeterminismViolationError` for a nondeterministic change)
 * means workflows already running with the old code would break if this code were deployed.
 */
export async function replayHistories(
  code: Pick<UserCode, 'workflowsPath'>,
  histories: Iterable<SavedHistory>,
): Promise<ReplayResult[]> {
  quietRuntime();
  const workflowBundle = { codePath: await userWorkflowBundle(code.workflowsPath) };
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories({ workflowBundle, replayName: 'surecron-replay' }, histories))
    results.push(result);
  return results;
}
