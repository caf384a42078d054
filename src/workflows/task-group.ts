import {
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  getExternalWorkflowHandle,
  log,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { GroupActivities } from '../activities/groups.js';
import {
  ACQUIRE_PERMIT_SIGNAL,
  GROUP_STATE_QUERY,
  nextWaiting,
  PERMIT_GRANTED_SIGNAL,
  RELEASE_PERMIT_SIGNAL,
  type GroupMember,
  type GroupState,
  type PermitGrant,
  type PermitRequest,
  type TaskGroupInput,
} from '../contract/group.js';

export const acquirePermitSignal = defineSignal<[PermitRequest]>(ACQUIRE_PERMIT_SIGNAL);
export const releasePermitSignal = defineSignal<[{ workflowId: string }]>(RELEASE_PERMIT_SIGNAL);
export const permitGrantedSignal = defineSignal<[PermitGrant]>(PERMIT_GRANTED_SIGNAL);
export const groupStateQuery = defineQuery<GroupState>(GROUP_STATE_QUERY);

/** How often the holders are checked for runs that ended without giving their permit back (terminated, timed out). */
const SWEEP_EVERY_MS = 30_000;
/** A new run of the group after this many events, carrying its state. */
const HISTORY_LIMIT = 5_000;
/**
 * A rate group grants what is due within this much of now together: starts of a rate up to 10/s are spaced
 * exactly; a faster one's come in bursts of at most 100 ms' worth (one workflow task grants them).
 */
const RATE_BURST_MS = 100;

const { closedRuns } = proxyActivities<GroupActivities>({
  startToCloseTimeout: '30s',
  retry: { maximumInterval: '10s' },
});

/**
 * One group's shared limit, across every worker and API process of the deployment. A run asks with the
 * `acquirePermit` signal (sent with start by the `requestPermit` activity) and is granted, in turn, by a
 * `permitGranted` signal to the run. At most `limit` permits are held at once (concurrency), or one is granted per
 * `1/perSecond` s (rate). A concurrency permit comes back with `releasePermit`, or by the sweep when its run ended
 * without it.
 */
export async function taskGroup(input: TaskGroupInput): Promise<void> {
  const { group } = input;
  let { policy } = input;
  const running = new Map((input.running ?? []).map((member) => [member.workflowId, member]));
  let waiting = [...(input.waiting ?? [])];
  const lastGrant = { ...input.lastGrant };
  let granted = input.granted ?? 0;
  let nextGrantAt = input.nextGrantAt ?? 0;
  /** Holders that asked again: the grant is sent again, idempotently. */
  const regrants = new Set<string>();
  let dirty = true;
  let nextSweep = Date.now() + SWEEP_EVERY_MS;

  const intervalMs = () => (policy.kind === 'rate' ? 1000 / policy.perSecond : 0);
  const hasRoom = () =>
    policy.kind === 'concurrency' ? running.size < policy.limit : nextGrantAt <= Date.now() + RATE_BURST_MS;
  /** Takes a permit for `member`: counted, remembered for fairness, held (concurrency) or spent (rate). */
  const take = (member: GroupMember): GroupMember => {
    granted += 1;
    lastGrant[member.taskId] = granted;
    const held = { ...member, grantedAt: Date.now() };
    if (policy.kind === 'concurrency') running.set(member.workflowId, held);
    else nextGrantAt = Math.max(nextGrantAt, Date.now()) + intervalMs();
    return held;
  };

  setHandler(acquirePermitSignal, (request) => {
    policy = request.policy;
    // Asked again (the request was retried): granted again if it holds the permit, else still queued.
    if (running.has(request.workflowId)) regrants.add(request.workflowId);
    else if (!waiting.some((each) => each.workflowId === request.workflowId)) {
      waiting.push({
        workflowId: request.workflowId,
        taskId: request.taskId,
        nominalTime: request.nominalTime,
        askedAt: Date.now(),
      });
    }
    dirty = true;
  });
  setHandler(releasePermitSignal, ({ workflowId }) => {
    running.delete(workflowId);
    waiting = waiting.filter((each) => each.workflowId !== workflowId);
    dirty = true;
  });
  setHandler(groupStateQuery, () => ({ group, policy, running: [...running.values()], waiting, granted }));

  const grant = async (member: GroupMember): Promise<boolean> => {
    try {
      await getExternalWorkflowHandle(member.workflowId).signal(permitGrantedSignal, {
        group,
        kind: policy.kind,
        askedAt: new Date(member.askedAt).toISOString(),
      });
      return true;
    } catch (error) {
      // The run ended meanwhile (cancelled, terminated): its permit goes to the next.
      log.info('permit not delivered', { group, workflowId: member.workflowId, error: (error as Error).message });
      return false;
    }
  };

  for (;;) {
    dirty = false;
    const grants = [...regrants].flatMap((workflowId) => running.get(workflowId) ?? []);
    regrants.clear();
    while (waiting.length > 0 && hasRoom()) {
      grants.push(take(waiting.splice(nextWaiting(waiting, lastGrant), 1)[0] as GroupMember));
    }
    // Sent together: one workflow task for all the grants that fit, not one round trip each.
    const delivered = await Promise.all(grants.map(grant));
    for (const [index, ok] of delivered.entries()) {
      if (!ok) running.delete((grants[index] as GroupMember).workflowId);
    }
    if (Date.now() >= nextSweep) {
      nextSweep = Date.now() + SWEEP_EVERY_MS;
      // Holders only: a waiting run that ended is dropped when its grant cannot be delivered.
      if (running.size) {
        const closed = await closedRuns([...running.keys()]);
        for (const workflowId of closed) running.delete(workflowId);
        if (closed.length) log.info('permits of ended runs reclaimed', { group, runs: closed });
      }
      continue;
    }
    if (workflowInfo().historyLength > HISTORY_LIMIT || workflowInfo().continueAsNewSuggested) {
      // The signal handlers are synchronous: everything they received is in the state carried over.
      await continueAsNew<typeof taskGroup>({
        group,
        policy,
        running: [...running.values()],
        waiting,
        granted,
        lastGrant: Object.fromEntries(
          Object.entries(lastGrant).filter(([taskId]) => waiting.some((each) => each.taskId === taskId)),
        ),
        nextGrantAt,
      });
    }
    const wakeForRate = policy.kind === 'rate' && waiting.length > 0 ? nextGrantAt - RATE_BURST_MS : Infinity;
    const wakeAt = Math.min(running.size > 0 ? nextSweep : Infinity, wakeForRate);
    if (wakeAt === Infinity) await condition(() => dirty);
    else await condition(() => dirty, Math.max(1, wakeAt - Date.now()));
  }
}
