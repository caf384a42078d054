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
