import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { redactSpec } from '../tasks/redact.js';
import { backfillTimes } from '../tasks/backfill.js';
import type { TaskChange, TaskChangeResult } from '../tasks/changes.js';
import { TaskExistsError, TaskNotFoundError, TaskOwnershipError } from '../tasks/errors.js';
import { specHash, toRunInput, type TaskSource } from '../tasks/schedule.js';
import type { TaskSpec } from '../tasks/spec.js';
import type { TaskStore } from '../tasks/store.js';
import { TaskValidationError } from '../tasks/validate.js';
import type { RunTaskInput } from '../contract/run.js';
import { searchAttributeKeys } from '../contract/search-attributes.js';
import { workflowTypes } from '../contract/workflow-types.js';

export interface ChangeActivityDeps {
  client: Client;
  store: TaskStore;
}

/** A change's outcome plus, for a backfill, the run input of every fire. */
export interface AppliedChange extends TaskChangeResult {
  runInput?: RunTaskInput;
}

const iso = (date: Date | undefined): string | undefined => date?.toISOString();

/** Domain errors cross the workflow boundary as non-retryable failures of the same type. */
function asFailure(error: unknown): unknown {
  if (!(error instanceof Error) || !error.name.startsWith('Task')) return error;
  const details = error instanceof TaskValidationError ? [error.issues] : [];
  return ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: true, details });
}

/** Activities that carry out task changes inside the audited `taskChange` workflow. */
export function createChangeActivities({ client, store }: ChangeActivityDeps) {
  /**
   * Creates the schedule. A retried attempt whose first try already created exactly this spec succeeds, so a
   * worker dying between the write and the activity's completion never leaves an unaudited task behind.
   */
  async function create(spec: TaskSpec, source: TaskSource): Promise<void> {
    try {
      await store.create(spec, source);
    } catch (error) {
      if (!(error instanceof TaskExistsError) || Context.current().info.attempt === 1) throw error;
      const current = await store.get(spec.id);
      if (current.specHash !== specHash(spec) || current.source !== source) throw error;
    }
  }

  async function apply(change: TaskChange & { at: string }): Promise<AppliedChange> {
    const { taskId } = change;
    switch (change.action) {
      case 'create':
        await create(change.spec, change.source);
        return { after: redactSpec(change.spec), appliedAt: iso(await store.writtenAt(taskId)) };
      case 'update':
      case 'apply': {
        if (change.action === 'apply' && change.op === 'delete') {
          const current = await store.get(taskId);
          await store.delete(taskId, change.source);
          return { before: redactSpec(current.spec) };
        }
        let current = await store.get(taskId).catch(() => undefined);
        if (!current) {
          try {
            await create(change.spec, change.source);
            return { after: redactSpec(change.spec), created: true, appliedAt: iso(await store.writtenAt(taskId)) };
          } catch (error) {
            if (!(error instanceof TaskExistsError)) throw error;
            // Another writer created it in between: this change replaces what it wrote.
            current = await store.get(taskId);
          }
        }
        // Two appliers raced to create it: the other one did; this change is not an update.
        if (change.action === 'apply' && change.op === 'create') throw new TaskExistsError(taskId);
        const writtenAt = await store.replaceSpec(change.spec, change.source);
        return { before: redactSpec(current.spec), after: redactSpec(change.spec), appliedAt: iso(writtenAt) };
      }
      case 'delete': {
        const current = await store.get(taskId).catch((error: unknown) => {
          // A retried attempt finds its own deletion done.
          if (error instanceof TaskNotFoundError && Context.current().info.attempt > 1) return undefined;
          throw error;
        });
        if (!current) return {};
        if (current.source !== change.source) throw new TaskOwnershipError(taskId, current.source);
        await store.delete(taskId);
        return { before: redactSpec(current.spec) };
      }
      case 'pause':
      case 'resume': {
        const note = change.note ?? `${change.action}d by ${change.actor}`;
        const { before, writtenAt } = await store.setPaused(taskId, change.action === 'pause', note);
        const { state } = before.description;
        return {
          before: { paused: state.paused, note: state.note },
          after: { paused: change.action === 'pause', note },
          appliedAt: iso(writtenAt),
        };
      }
      case 'trigger': {
        const current = await store.get(taskId);
        const nominalTime = change.at;
        const workflowId = `${taskId}-manual-${nominalTime}`;
        try {
          const handle = await client.workflow.start(workflowTypes.runTask, {
            taskQueue: store.taskQueue,
            workflowId,
            workflowIdReusePolicy: 'REJECT_DUPLICATE',
            args: [{ ...toRunInput(current.spec), nominalTime, trigger: 'manual' }],
            typedSearchAttributes: [
              { key: searchAttributeKeys.taskId, value: taskId },
              { key: searchAttributeKeys.trigger, value: 'manual' },
              { key: searchAttributeKeys.nominalTime, value: new Date(nominalTime) },
            ],
          });
          return { run: { workflowId, runId: handle.firstExecutionRunId } };
        } catch (error) {
          // A retried attempt finds the run its first attempt started.
          if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
          const { runId } = await client.workflow.getHandle(workflowId).describe();
          return { run: { workflowId, runId } };
        }
      }
      case 'backfill': {
        const current = await store.get(taskId);
        const to = Date.parse(change.to);
        const times = backfillTimes(current.spec.schedule, new Date(change.from), new Date(to));
        return { times, runInput: toRunInput(current.spec) };
      }
    }
  }

  return {
    /** Carries out one task change; domain errors fail it without retries. */
    async applyTaskChange(change: TaskChange & { at: string }): Promise<AppliedChange> {
      Context.current().log.info('applying task change', { taskId: change.taskId, action: change.action });
      try {
        const result = await apply(change);
        // A change that wrote the schedule takes effect at the server's time of the write (the instant the scheduler
        // switches from the old spec or state to the new), which keeps the ledger exact; any other change, now.
        return { ...result, appliedAt: result.appliedAt ?? new Date().toISOString() };
      } catch (error) {
        throw asFailure(error);
      }
    },
  };
}
