import type { Run } from '../runs/runs.js';
import { redactSpec } from '../tasks/redact.js';
import type { TaskSource } from '../tasks/schedule.js';
import type { TaskSpec } from '../tasks/spec.js';
import type { StoredTask } from '../tasks/store.js';

/** A task as the API shows it. */
export interface TaskView {
  id: string;
  spec: TaskSpec;
  source: TaskSource;
  state: { paused: boolean; note: string };
  nextRuns: string[];
  recentRuns: Run[];
  counts: { taken: number; missedCatchup: number; skippedOverlap: number };
  createdAt: string;
  updatedAt: string;
}

export function toTaskView(task: StoredTask, recentRuns: Run[]): TaskView {
  const { state, info } = task.description;
  return {
    id: task.id,
    spec: redactSpec(task.spec),
    source: task.source,
    state: { paused: state.paused, note: state.note ?? '' },
    nextRuns: info.nextActionTimes.map((t) => t.toISOString()),
    recentRuns,
    counts: {
      taken: info.numActionsTaken,
      missedCatchup: info.numActionsMissedCatchupWindow,
      skippedOverlap: info.numActionsSkippedOverlap,
    },
    createdAt: info.createdAt.toISOString(),
    updatedAt: (info.lastUpdatedAt ?? info.createdAt).toISOString(),
  };
}
