/**
 * Task groups: the shared limits of several tasks (and one-off jobs), kept by one `taskGroup` workflow per group
 * on the deployment's task queue. A run asks its group for a permit, waits durably until it is granted, runs its
 * handler and, for a concurrency group, gives the permit back.
 */

/** What a group limits: runs at once (`concurrency`), or handler starts per second (`rate`). */
export type GroupKind = 'concurrency' | 'rate';

/** A group's limit as tasks declare it; the most recent request's declaration is the one in force. */
export type GroupPolicy = { kind: 'concurrency'; limit: number } | { kind: 'rate'; perSecond: number };

/** A group a run belongs to, as `runTask` receives it. */
export interface RunGroup {
  group: string;
  policy: GroupPolicy;
}

/** A run asking its group for a permit. */
export interface PermitRequest {
  workflowId: string;
  taskId: string;
  /** The fire's nominal time: within one task, the oldest fire goes first. */
  nominalTime: string;
  policy: GroupPolicy;
}

/** A run that asked, as the group's state shows it. */
export interface GroupMember {
  workflowId: string;
  taskId: string;
  nominalTime: string;
  /** When (ms, the group's time) it asked. */
  askedAt: number;
  /** When (ms) it was granted, if it was. */
  grantedAt?: number;
}

/** The grant a group sends a run. */
export interface PermitGrant {
  group: string;
  kind: GroupKind;
  /** When the group received the run's request (ISO 8601): the run waited from then until this grant. */
  askedAt: string;
}

/** What `GET /v1/groups` shows of one group. */
export interface GroupState {
  group: string;
  policy: GroupPolicy;
  /** Runs holding a permit (concurrency groups; a rate group's permits are used at once). */
  running: GroupMember[];
  waiting: GroupMember[];
  /** Permits granted since the group began. */
  granted: number;
}

/** The `taskGroup` workflow's input, and what it carries over a continue-as-new. */
export interface TaskGroupInput {
  group: string;
  policy: GroupPolicy;
  running?: GroupMember[];
  waiting?: GroupMember[];
  granted?: number;
  /** Per task, the grant number of its last permit: the fairness rule's memory. */
  lastGrant?: Record<string, number>;
  /** A rate group: when (ms) its next permit is due (each grant moves it on by `1 / perSecond` s). */
  nextGrantAt?: number;
}

/** How long a run waited for each of its groups, in its result and in `explain`. */
export interface GroupWait {
  group: string;
  kind: GroupKind;
  waitedMs: number;
}

/** The signal a run asks with (sent with start, payload: {@link PermitRequest}). */
export const ACQUIRE_PERMIT_SIGNAL = 'acquirePermit';
export const RELEASE_PERMIT_SIGNAL = 'releasePermit';
/** Sent by the group to the run it grants (payload: {@link PermitGrant}). */
export const PERMIT_GRANTED_SIGNAL = 'permitGranted';
export const GROUP_STATE_QUERY = 'groupState';

/** A group's name: what tasks write as `concurrency.group` or `rateLimit.group`. */
export const GROUP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** The workflow id of a group's `taskGroup` workflow; the kinds are apart, so one name may serve both. */
export function groupWorkflowId(kind: GroupKind, group: string): string {
  return `surecron-group.${kind}.${group}`;
}

/**
 * The next waiting run to grant. Fairness: the task whose last permit is the oldest (a task never granted first)
 * goes next, so every task with a waiting run gets a permit within as many grants as the group has tasks, however
 * many runs another task has queued; within a task, the oldest fire goes first.
 */
export function nextWaiting(waiting: readonly GroupMember[], lastGrant: Readonly<Record<string, number>>): number {
  let best = -1;
  for (const [index, member] of waiting.entries()) {
    const candidate = waiting[best];
    if (!candidate) {
      best = index;
      continue;
    }
    const order = (lastGrant[member.taskId] ?? -1) - (lastGrant[candidate.taskId] ?? -1);
    const older = member.taskId === candidate.taskId && member.nominalTime < candidate.nominalTime;
    if (order < 0 || (order === 0 && older)) best = index;
  }
  return best;
}
