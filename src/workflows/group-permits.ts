import {
  CancellationScope,
  condition,
  log,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { GroupActivities } from '../activities/groups.js';
import type { GroupWait, RunGroup } from '../contract/group.js';
import { permitGrantedSignal } from './task-group.js';

// Asked and given back from the run's own workflow task: both are signals, which wait for no workflow task of
// the group (a request that did could hold the run's task open while the group needs a slot to answer it).
const { requestPermit, releasePermit } = proxyLocalActivities<GroupActivities>({
  startToCloseTimeout: '10s',
  // The group's workflow is the deployment's own: while the server is away, keep asking.
  retry: { maximumInterval: '10s' },
});

/**
 * The permits a run holds around its handler, one per group it belongs to. Concurrency groups are asked first,
 * rate groups last (a rate permit is used at once, so the rate spaces real starts); every run asks in that order and
 * holds no rate permit, so no two runs can wait on each other.
 */
export class GroupPermits {
  /** How long the run waited for each group. */
  readonly waits: GroupWait[] = [];
  private readonly asked: RunGroup[] = [];

  /** Asks each group in turn and waits, durably, for its grant; a cancelled run leaves the queues it joined. */
  static async acquire(
    groups: readonly RunGroup[] | undefined,
    run: { taskId: string; nominalTime: string },
  ): Promise<GroupPermits> {
    const ordered = [...(groups ?? [])].sort(
      (a, b) => Number(a.policy.kind === 'rate') - Number(b.policy.kind === 'rate'),
    );
    const permits = new GroupPermits();
    if (!ordered.length) return permits;
    const grants = new Set<string>();
    setHandler(permitGrantedSignal, ({ group, kind }) => void grants.add(`${kind}:${group}`));
    const { workflowId } = workflowInfo();
    try {
      for (const group of ordered) {
        const asked = Date.now();
        permits.asked.push(group);
        await requestPermit(group, { workflowId, ...run });
        await condition(() => grants.has(`${group.policy.kind}:${group.group}`));
        const wait = { group: group.group, kind: group.policy.kind, waitedMs: Date.now() - asked };
        permits.waits.push(wait);
        log.info('group permit granted', { ...wait });
      }
    } catch (error) {
      await permits.release();
      throw error;
    }
    return permits;
  }

  /** Runs `work` with the permits held, and gives the concurrency permits back as soon as it ends. */
  async around<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } finally {
      await this.release();
    }
  }

  /** Leaves every group asked: a held concurrency permit comes back, a queued request is withdrawn. */
  private async release(): Promise<void> {
    const asked = this.asked.splice(0);
    const { workflowId } = workflowInfo();
    const leaving = asked.filter(({ policy }, index) => policy.kind === 'concurrency' || index >= this.waits.length);
    if (!leaving.length) return;
    await CancellationScope.nonCancellable(() =>
      Promise.all(leaving.map(({ group, policy }) => releasePermit({ kind: policy.kind, group, workflowId }))),
    );
  }
}
