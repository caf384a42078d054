/** Workflow of the bare-Temporal baseline: one trivial activity, given the schedule's nominal time. */
import type { SearchAttributeKey } from '@temporalio/common/lib/search-attributes.js';
import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';

/** Set by the server on every workflow a Schedule starts. */
const scheduledStartTime = { name: 'TemporalScheduledStartTime', type: 'DATETIME' } as SearchAttributeKey<'DATETIME'>;

export interface BareActivities {
  benchActivity(i: number, nominalMs: number): Promise<void>;
}

const { benchActivity } = proxyActivities<BareActivities>({ startToCloseTimeout: '1m' });

export async function benchBare(i: number): Promise<void> {
  const info = workflowInfo();
  const nominal = info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime;
  await benchActivity(i, nominal.getTime());
}

/**
 * Fire-ahead: the schedule fires `leadMs` before the nominal time and the workflow waits on a durable timer until
 * the nominal instant, so the scheduler action, the start and the first workflow task leave the critical path.
 */
export async function benchBareAhead(i: number, leadMs: number): Promise<void> {
  const info = workflowInfo();
  const nominal = (info.typedSearchAttributes.get(scheduledStartTime) ?? info.startTime).getTime() + leadMs;
  const wait = nominal - Date.now();
  if (wait > 0) await sleep(wait);
  await benchActivity(i, nominal);
}
