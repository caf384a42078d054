import type { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

type SearchAttributeKey<T extends SearchAttributeType> = ReturnType<typeof defineSearchAttributeKey<T>>;

/**
 * Search attributes surecron sets on every run so the Web UI and the run ledger can filter by them. Plain
 * literals (no runtime import) so workflow code can use them.
 */
export const searchAttributeKeys = {
  taskId: { name: 'SurecronTaskId', type: 'KEYWORD' } as SearchAttributeKey<'KEYWORD'>,
  nominalTime: { name: 'SurecronNominalTime', type: 'DATETIME' } as SearchAttributeKey<'DATETIME'>,
  trigger: { name: 'SurecronTrigger', type: 'KEYWORD' } as SearchAttributeKey<'KEYWORD'>,
  /** Attempts the handler took, set when the run ends; 0 on a run its DST policy skipped (nothing ran). */
  attempts: { name: 'SurecronAttempts', type: 'INT' } as SearchAttributeKey<'INT'>,
  /** Audit entries (`taskChange` workflows): who did what. */
  actor: { name: 'SurecronActor', type: 'KEYWORD' } as SearchAttributeKey<'KEYWORD'>,
  action: { name: 'SurecronAction', type: 'KEYWORD' } as SearchAttributeKey<'KEYWORD'>,
  /** Audit entries: every task a change touched (a batch entry lists each one; a single change, its one task). */
  taskIds: { name: 'SurecronTaskIds', type: 'KEYWORD_LIST' } as SearchAttributeKey<'KEYWORD_LIST'>,
  /** Set on each task's Schedule, so the task list is one filtered, paged visibility query. */
  taskQueue: { name: 'SurecronTaskQueue', type: 'KEYWORD' } as SearchAttributeKey<'KEYWORD'>,
  tags: { name: 'SurecronTags', type: 'KEYWORD_LIST' } as SearchAttributeKey<'KEYWORD_LIST'>,
  /** Audit entries of `retry` and `resolve`: the runs (`<workflowId>/<runId>`) they acted on. */
  runIds: { name: 'SurecronRunIds', type: 'KEYWORD_LIST' } as SearchAttributeKey<'KEYWORD_LIST'>,
  /** Set by the Temporal server on workflows a Schedule starts: the nominal (scheduled) time. */
  scheduledStartTime: { name: 'TemporalScheduledStartTime', type: 'DATETIME' } as SearchAttributeKey<'DATETIME'>,
} as const;
