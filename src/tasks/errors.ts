import { ApplicationFailure } from '@temporalio/common';
import type { TASK_CHANGE_ERROR_TYPES } from '../contract/task-change.js';

/** Thrown when no task has the given id (or the schedule with that id is not surecron's). */
export class TaskNotFoundError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} not found`);
    this.name = 'TaskNotFoundError';
  }
}

/** Thrown when creating a task whose id is taken. */
export class TaskExistsError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} already exists`);
    this.name = 'TaskExistsError';
  }
}

/** Thrown when a change would touch a task managed elsewhere (code vs API) or a foreign schedule. */
export class TaskOwnershipError extends Error {
  constructor(
    readonly taskId: string,
    readonly owner: string,
  ) {
    super(`task ${taskId} is managed by ${owner} and cannot be changed here`);
    this.name = 'TaskOwnershipError';
  }
}

/** Thrown when a task kept changing under a write, retries exhausted. */
export class TaskConflictError extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} was changed concurrently; try again`);
    this.name = 'TaskConflictError';
  }
}

/** Thrown when a retry or resolve names a run that is not one of this deployment's task runs. */
export class FireRunNotFoundError extends Error {
  constructor(readonly workflowId: string) {
    super(`no run ${workflowId} of a task`);
    this.name = 'FireRunNotFoundError';
  }
}

/** Thrown when a retry or resolve names a run that is not a dead letter (not failed, retried since, or resolved). */
export class FireRunStateError extends Error {
  constructor(
    readonly workflowId: string,
    readonly reason: string,
  ) {
    super(`run ${workflowId} is not a dead letter: ${reason}`);
    this.name = 'FireRunStateError';
  }
}

export interface ValidationIssue {
  /** Dotted path of the offending field, e.g. `schedule.cron`. */
  path: string;
  message: string;
}

/** Thrown when a task spec is invalid; carries one issue per offending field. */
export class TaskValidationError extends Error {
  constructor(readonly issues: readonly ValidationIssue[]) {
    super(`invalid task: ${issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ')}`);
    this.name = 'TaskValidationError';
  }
}

export type TaskError =
  | TaskNotFoundError
  | TaskExistsError
  | TaskOwnershipError
  | TaskConflictError
  | TaskValidationError
  | FireRunNotFoundError
  | FireRunStateError;

/** What a domain error carries across the workflow boundary, in its failure's details. */
interface TaskErrorContext {
  taskId?: string;
  owner?: string;
  issues?: readonly ValidationIssue[];
  workflowId?: string;
  reason?: string;
}

/** Rebuilds each domain error from its context; keyed by the error type every change may fail with. */
const rebuild: Record<
  (typeof TASK_CHANGE_ERROR_TYPES)[number],
  (context: TaskErrorContext, taskId: string) => TaskError
> = {
  TaskNotFoundError: (c, taskId) => new TaskNotFoundError(c.taskId ?? taskId),
  TaskExistsError: (c, taskId) => new TaskExistsError(c.taskId ?? taskId),
  TaskOwnershipError: (c, taskId) => new TaskOwnershipError(c.taskId ?? taskId, c.owner ?? 'another source'),
  TaskConflictError: (c, taskId) => new TaskConflictError(c.taskId ?? taskId),
  TaskValidationError: (c) => new TaskValidationError(c.issues ?? []),
  FireRunNotFoundError: (c) => new FireRunNotFoundError(c.workflowId ?? ''),
  FireRunStateError: (c) => new FireRunStateError(c.workflowId ?? '', c.reason ?? 'not failed'),
};

const isTaskErrorType = (type: string | undefined | null): type is keyof typeof rebuild =>
  type !== undefined && type !== null && Object.hasOwn(rebuild, type);

/**
 * A domain error as a non-retryable Temporal failure of the same type, its context (task id, owner, issues) in
 * the details; anything else unchanged.
 */
export function toFailure(error: unknown): unknown {
  if (!(error instanceof Error) || !isTaskErrorType(error.name)) return error;
  const { taskId, owner, issues, workflowId, reason } = error as Error & TaskErrorContext;
  const context: TaskErrorContext = {
    taskId,
    owner,
    ...(issues ? { issues: [...issues] } : {}),
    ...(workflowId ? { workflowId, reason } : {}),
  };
  return ApplicationFailure.create({
    message: error.message,
    type: error.name,
    nonRetryable: true,
    details: [context],
  });
}

/**
 * The domain error a failure (or a failure wrapping one, as a failed workflow does) stands for; anything else
 * unchanged. `taskId` fills in for failures recorded without their context.
 */
export function fromFailure(error: unknown, taskId: string): unknown {
  for (let cause: unknown = error; cause instanceof Error; cause = cause.cause) {
    if (!(cause instanceof ApplicationFailure)) continue;
    if (!isTaskErrorType(cause.type)) return error;
    const [detail] = cause.details ?? [];
    // Failures recorded before the context moved into the details carried a validation's issues as the detail.
    const context: TaskErrorContext = Array.isArray(detail) ? { issues: detail as ValidationIssue[] } : (detail ?? {});
    return rebuild[cause.type](context, taskId);
  }
  return error;
}
