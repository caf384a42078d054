import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { readFile } from 'node:fs/promises';

const { temporal } = proto;

/** What `/readyz` reports: ready only when every check passed. */
export interface Readiness {
  ready: boolean;
  checks: Record<string, string>;
}

/** Membership as `npm run cluster` writes it into its `cluster.json`. */
interface ClusterMembers {
  expected: number;
  joined: string[];
  checkedAt: string;
}

/** A membership report older than this is not believed: the cluster's supervisor is gone or stuck. */
const MEMBERS_FRESH_MS = 15_000;

/** The `cluster` check of `/readyz`: `ok (3/3 nodes joined)` from `npm run cluster`'s `cluster.json`, or why not. */
export async function clusterCheck(clusterFile: string): Promise<{ ok: boolean; detail: string }> {
  let members: ClusterMembers | undefined;
  try {
    members = (JSON.parse(await readFile(clusterFile, 'utf8')) as { members?: ClusterMembers }).members;
  } catch (error) {
    return { ok: false, detail: `unknown: ${(error as Error).message.split('\n')[0]}` };
  }
  if (!members) return { ok: false, detail: 'membership not checked yet' };
  const age = Date.now() - Date.parse(members.checkedAt);
  if (!(age < MEMBERS_FRESH_MS)) return { ok: false, detail: `membership report is ${Math.round(age / 1000)} s old` };
  const ok = members.joined.length >= members.expected;
  const detail = `${members.joined.length}/${members.expected} nodes joined`;
  return { ok, detail: ok ? `ok (${detail})` : detail };
}

/**
 * Ready when Temporal answers and at least one worker has polled surecron's task queue recently. Works the
 * same whether the worker runs in this process or elsewhere. Given the `cluster.json` of `npm run cluster`, also
 * only once every Temporal node has joined the cluster.
 */
export function temporalReadiness(client: Client, taskQueue: string, clusterFile?: string): () => Promise<Readiness> {
  return async () => {
    const checks: Record<string, string> = {};
    let clusterReady = true;
    if (clusterFile) {
      const cluster = await clusterCheck(clusterFile);
      checks.cluster = cluster.detail;
      clusterReady = cluster.ok;
    }
    try {
      await client.workflowService.getSystemInfo({});
      checks.temporal = 'ok';
    } catch (error) {
      checks.temporal = `unreachable: ${(error as Error).message.split('\n')[0]}`;
      checks.worker = 'unknown';
      return { ready: false, checks };
    }
    let pollers: unknown[];
    try {
      ({ pollers } = await client.workflowService.describeTaskQueue({
        namespace: client.options.namespace,
        taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
        taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
      }));
    } catch (error) {
      checks.worker = `unknown: ${(error as Error).message.split('\n')[0]}`;
      return { ready: false, checks };
    }
    checks.worker =
      pollers.length > 0 ? `ok (${pollers.length} poller${pollers.length > 1 ? 's' : ''})` : 'no worker polling';
    return { ready: clusterReady && pollers.length > 0, checks };
  };
}
