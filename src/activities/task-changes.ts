import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { carryOutChange, type AppliedChange, type TimedChange } from '../tasks/change-actions.js';
import { toFailure } from '../tasks/errors.js';
import { readFireRun } from '../runs/dead-letters.js';
import { startRunTask } from '../tasks/start-run.js';
import type { TaskStore } from '../tasks/store.js';

export interface ChangeActivityDeps {
  client: Client;
  store: TaskStore;
}

/** The activity of the audited `taskChange` workflow: a thin adapter over `carryOutChange`. */
export function createChangeActivities({ client, store }: ChangeActivityDeps) {
  return {
    /** Carries out one task change; domain errors fail it without retries. */
    async applyTaskChange(change: TimedChange): Promise<AppliedChange> {
      const { info, log } = Context.current();
      log.info('applying task change', { taskId: change.taskId, action: change.action });
      try {
        return await carryOutChange(change, {
          store,
          attempt: info.attempt,
          startRun: (workflowId, input) => startRunTask(client, { taskQueue: store.taskQueue, workflowId, input }),
          runs: {
            read: (run) => readFireRun(client, run),
            restart: (workflowId, input) =>
              startRunTask(client, { taskQueue: store.taskQueue, workflowId, input, afterFailure: true }),
          },
        });
      } catch (error) {
        throw toFailure(error);
      }
    },
  };
}
