import { proxySinks, type Sinks } from '@temporalio/workflow';

/** Worker-side functions workflows report to; sink calls are not part of history and skipped on replay. */
export interface SurecronSinks extends Sinks {
  metrics: {
    runFinished(event: { taskId: string; outcome: 'succeeded' | 'failed'; durationMs: number; attempts: number }): void;
  };
}

export const sinks = proxySinks<SurecronSinks>();
