import type { RunTaskInput } from '../contract/run.js';
import { backfillTimes } from './backfill.js';
import type { FireRunView, RunRef, TaskAction, TaskChange, TaskChangeResult } from './changes.js';
import {
  FireRunNotFoundError,
  FireRunStateError,
  TaskExistsError,
  TaskNotFoundError,
  TaskOwnershipError,
} from './errors.js';
import { redactSpec } from './redact.js';
import { specHash, toRunInput, type TaskSource } from './schedule.js';
import type { TaskSpec } from './spec.js';
import type { TaskStore } from './store.js';

/** A change as the `taskChange` workflow hands it over: with the instant it started (`at`). */
export type TimedChange = TaskChange & { at: string };

/** A change's outcome plus, for a backfill, the run input of every fire. */
export interface AppliedChange extends TaskChangeResult {
  runInput?: RunTaskInput;
}

/** What carrying out a change needs. */
export interface ChangeContext {
  store: TaskStore;
  /** 1 for the first try; a retried attempt may find its own earlier write done. */
  attempt: number;
  /** Starts a manual run (`trigger`); finds the one an earlier attempt started. */
  startRun: (
    workflowId: string,
    input: RunTaskInput & { nominalTime: string; trigger: 'manual' },
  ) => Promise<{ workflowId: string; runId: string }>;
  /** Reads and restarts the runs of fires (`retry`, `resolve`). */
  runs: {
    read(run: RunRef): Promise<FireRunView | undefined>;
    restart(workflowId: string, input: RunTaskInput & { nominalTime: string; trigger: 'retry' }): Promise<RunRef>;
  };
}

type ActionOf<A extends TaskAction> = TimedChange & { action: A };
type Action<A extends TaskAction> = (change: ActionOf<A>, context: ChangeContext) => Promise<AppliedChange>;

const iso = (date: Date | undefined): string | undefined => date?.toISOString();

/**
 * Creates the schedule. A retried attempt whose first try already created exactly this spec succeeds, so a
 * worker dying between the write and the activity's completion never leaves an unaudited task behind.
 */
async function createSchedule(
  spec: TaskSpec,
  source: TaskSource,
  { store, attempt }: ChangeContext,
): Promise<AppliedChange> {
  try {
    await store.create(spec, source);
  } catch (error) {
    if (!(error instanceof TaskExistsError) || attempt === 1) throw error;
    const current = await store.get(spec.id);
    if (current.specHash !== specHash(spec) || current.source !== source) throw error;
  }
  return { after: redactSpec(spec), appliedAt: iso(await store.writtenAt(spec.id)) };
}

const create: Action<'create'> = (change, context) => createSchedule(change.spec, change.source, context);

/** Replaces a task's spec; a task that does not exist yet is created (unless an `apply` meant to create it lost a race). */
const update: Action<'update' | 'apply'> = async (change, context) => {
  const { store } = context;
  if (change.action === 'apply' && change.op === 'delete') return applyDeletion(change, context);
  let current = await store.get(change.taskId).catch(() => undefined);
  if (!current) {
    try {
      return { ...(await createSchedule(change.spec, change.source, context)), created: true };
    } catch (error) {
      if (!(error instanceof TaskExistsError)) throw error;
      // Another writer created it in between: this change replaces what it wrote.
      current = await store.get(change.taskId);
    }
  }
  // Two appliers raced to create it: the other one did; this change is not an update.
  if (change.action === 'apply' && change.op === 'create') throw new TaskExistsError(change.taskId);
  const writtenAt = await store.replaceSpec(change.spec, change.source, current);
  return { before: redactSpec(current.spec), after: redactSpec(change.spec), appliedAt: iso(writtenAt) };
};

/** `apply` pruning a task no longer declared. */
async function applyDeletion(change: ActionOf<'apply'>, { store }: ChangeContext): Promise<AppliedChange> {
  const current = await store.get(change.taskId);
  await store.delete(change.taskId, change.source);
  return { before: redactSpec(current.spec) };
}

const remove: Action<'delete'> = async (change, { store, attempt }) => {
  const current = await store.get(change.taskId).catch((error: unknown) => {
    // A retried attempt finds its own deletion done.
    if (error instanceof TaskNotFoundError && attempt > 1) return undefined;
    throw error;
  });
  if (!current) return {};
  if (current.source !== change.source) throw new TaskOwnershipError(change.taskId, current.source);
  await store.delete(change.taskId);
  return { before: redactSpec(current.spec) };
};

const setPaused: Action<'pause' | 'resume'> = async (change, { store }) => {
  const paused = change.action === 'pause';
  const note = change.note ?? `${change.action}d by ${change.actor}`;
  const { before, writtenAt } = await store.setPaused(change.taskId, paused, note);
  const { state } = before.description;
  return { before: { paused: state.paused, note: state.note }, after: { paused, note }, appliedAt: iso(writtenAt) };
};

const trigger: Action<'trigger'> = async (change, { store, startRun }) => {
  const current = await store.get(change.taskId);
  const nominalTime = change.at;
  const run = await startRun(`${change.taskId}-manual-${nominalTime}`, {
    ...toRunInput(current.spec),
    nominalTime,
    trigger: 'manual',
  });
  return { run };
};

/**
 * The run a retry or resolve names, read; a dead letter is one of this task that failed, is the latest run of its
 * fire, and was not resolved.
 * @throws {FireRunNotFoundError}
 */
async function readRun(change: ActionOf<'retry' | 'resolve'>, { runs }: ChangeContext): Promise<FireRunView> {
  const run = await runs.read(change.run);
  if (!run || run.taskId !== change.taskId) throw new FireRunNotFoundError(change.run.workflowId);
  return run;
}

/** @throws {FireRunStateError} unless `run` (read for `change`) is a dead letter. */
function assertDeadLetter(change: ActionOf<'retry' | 'resolve'>, run: FireRunView): void {
  if (run.status !== 'failed') throw new FireRunStateError(change.run.workflowId, `its run is ${run.status}`);
  if (run.latestRunId !== change.run.runId)
    throw new FireRunStateError(change.run.workflowId, `run ${change.run.runId} was retried since`);
  if (run.resolved) throw new FireRunStateError(change.run.workflowId, 'it was resolved');
}

/**
 * A new run of a dead letter's fire: same workflow id, nominal time and idempotency key, with the task's current
 * spec or the failed run's own input. A retried attempt whose first try started the run finds it.
 */
const retry: Action<'retry'> = async (change, context) => {
  const { runs, store, attempt } = context;
  const run = await readRun(change, context);
  // A retried attempt whose first try started the new run: that run is now the fire's latest.
  if (attempt > 1 && run.latestRunId !== change.run.runId)
    return { run: { workflowId: change.run.workflowId, runId: run.latestRunId } };
  assertDeadLetter(change, run);
  const input = change.spec === 'current' ? toRunInput((await store.get(change.taskId)).spec) : run.input;
  const started = await runs.restart(change.run.workflowId, {
    ...input,
    nominalTime: run.nominalTime,
    idempotencyKey: run.idempotencyKey,
    trigger: 'retry',
  });
  return {
    before: { run: change.run, status: 'failed' },
    after: { run: started, spec: change.spec },
    run: started,
  };
};

/** A dead letter acknowledged by hand: the audit entry (listing the run) is the record; the run leaves the list. */
const resolve: Action<'resolve'> = async (change, context) => {
  assertDeadLetter(change, await readRun(change, context));
  return {
    before: { run: change.run, status: 'failed' },
    after: { run: change.run, resolved: true, note: change.note },
  };
};

/** Works out a backfill's fire times; the workflow starts their runs. */
const backfill: Action<'backfill'> = async (change, { store }) => {
  const current = await store.get(change.taskId);
  const times = backfillTimes(current.spec.schedule, new Date(change.from), new Date(change.to));
  return { times, runInput: toRunInput(current.spec) };
};

const actions: { [A in TaskAction]: Action<A> } = {
  create,
  update,
  apply: update,
  delete: remove,
  pause: setPaused,
  resume: setPaused,
  trigger,
  backfill,
  retry,
  resolve,
};

/**
 * Carries out one audited change. A change that wrote the schedule takes effect at the server's time of the
 * write (the instant the scheduler switches from the old spec or state to the new), which keeps the ledger exact;
 * any other change, now.
 * @throws {TaskNotFoundError | TaskExistsError | TaskOwnershipError | TaskConflictError | TaskValidationError}
 */
export async function carryOutChange(change: TimedChange, context: ChangeContext): Promise<AppliedChange> {
  const result = await (actions[change.action] as Action<TaskAction>)(change, context);
  return { ...result, appliedAt: result.appliedAt ?? new Date().toISOString() };
}
