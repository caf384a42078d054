/**
 * The error types a task change can fail with (the domain errors of `src/tasks/errors.ts`). They cross the
 * workflow boundary as non-retryable failures of the same type.
 */
export const TASK_CHANGE_ERROR_TYPES = [
  'TaskNotFoundError',
  'TaskExistsError',
  'TaskOwnershipError',
  'TaskConflictError',
  'TaskValidationError',
  'FireRunNotFoundError',
  'FireRunStateError',
] as const;
