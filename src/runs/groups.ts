import type { Client } from '@temporalio/client';
import { GROUP_STATE_QUERY, type GroupKind, type GroupMember, type GroupState } from '../contract/group.js';
import { workflowTypes } from '../contract/workflow-types.js';
import { queryRunning } from '../temporal/visibility.js';

/** A group as `GET /v1/groups` lists it. */
export interface GroupView {
  group: string;
  kind: GroupKind;
  /** Concurrency groups: permits held at once at most. */
  limit?: number;
  /** Rate groups: handler starts per second. */
  perSecond?: number;
  /** Runs holding a permit now. */
  running: number;
  /** Runs waiting for one. */
  waiting: number;
  /** Permits granted since the group began. */
  granted: number;
  runningRuns: GroupMember[];
  waitingRuns: GroupMember[];
}

export function toGroupView(state: GroupState): GroupView {
  const { policy } = state;
  return {
    group: state.group,
    kind: policy.kind,
    ...(policy.kind === 'concurrency' ? { limit: policy.limit } : { perSecond: policy.perSecond }),
    running: state.running.length,
    waiting: state.waiting.length,
    granted: state.granted,
    runningRuns: state.running,
    waitingRuns: state.waiting,
  };
}

/** The deployment's groups, each as its workflow holds it now (a query: a worker of the task queue answers). */
export async function listGroups(client: Client, taskQueue: string): Promise<GroupView[]> {
  const states = await queryRunning<GroupState>(client, {
    workflowType: workflowTypes.taskGroup,
    taskQueue,
    query: GROUP_STATE_QUERY,
  });
  return states.map(toGroupView).sort((a, b) => a.group.localeCompare(b.group) || a.kind.localeCompare(b.kind));
}
