import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import pLimit from 'p-limit';
import type { RunTaskInput } from '../../src/contract/run.js';
import { toScheduleOptions } from '../../src/tasks/schedule.js';
import { taskSpecSchema } from '../../src/tasks/spec.js';
import { ORACLE_FROM, oracleExpressions, oracleSeconds, oracleWindows, oracleZones } from '../helpers/dst-cases.js';
import { oracleFires, oracleWindow } from '../helpers/dst-oracle.js';
import { serverMatchingTimes, testClient, uniqueId } from '../helpers/temporal.js';

const seconds = oracleSeconds();
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');
const policies = [
  { skipped: 'shift', repeated: 'once' },
  { skipped: 'skip', repeated: 'twice' },
] as const;

/**
 * What really runs equals the oracle: for every zone with a transition between 2026 and 2036, surecron creates the
 * schedule (all expressions of the set in one task, corrections computed from 2026-01-01 over 11 years), the
 * server lists its matching times around every transition (ListScheduleMatchingTimes), and the nominal times the
 * run's DST guard skips are taken out. The rest must be exactly the union of the oracle's fires.
 */
describe('DST policies on the real server equal the oracle', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  it('zero mismatches in every zone, east and west of UTC, under both policies', { timeout: 900_000 }, async () => {
    const zones = oracleZones();
    const limit = pLimit(4);
    const mismatches: string[] = [];
    let compared = 0;
    let calls = 0;
    const taskQueue = uniqueId('dst-oracle');
    await Promise.all(
      zones.flatMap(({ zone, transitions }) =>
        policies.map((dst) =>
          limit(async () => {
            const id = uniqueId('dst');
            const spec = taskSpecSchema.parse({
              id,
              schedule: { cron: [...oracleExpressions], timezone: zone, dst },
              handler: { type: 'function', name: 'heartbeat' },
              paused: true,
            });
            const options = toScheduleOptions(spec, {
              taskQueue,
              source: 'api',
              now: ORACLE_FROM,
              dstHorizonMs: 11 * 366 * 86_400_000,
            });
            await client.schedule.create(options);
            try {
              const { action } = await client.schedule.getHandle(id).describe();
              const skips =
                action.type === 'startWorkflow' ? ((action.args?.[0] as RunTaskInput | undefined)?.dstSkips ?? []) : [];
              for (const [from, to] of oracleWindows(transitions)) {
                const window = oracleWindow(zone, from, to, seconds);
                const want = [...new Set(oracleExpressions.flatMap((cron) => oracleFires(window, cron, dst)))].sort(
                  (a, b) => a - b,
                );
                const times = await serverMatchingTimes(client, id, from - 1000, to - 1000);
                calls += 1;
                const runs = times
                  .filter((at) => at >= from && at < to)
                  .filter((at) => !skips.some(([a, b]) => at >= Date.parse(a) && at <= Date.parse(b)));
                compared += want.length;
                if (JSON.stringify(runs) !== JSON.stringify(want) && mismatches.length < 20) {
                  const missing = want.filter((at) => !runs.includes(at)).map(iso);
                  const extra = runs.filter((at) => !want.includes(at)).map(iso);
                  mismatches.push(
                    `${zone} ${JSON.stringify(dst)}: missing ${missing.join(',')} extra ${extra.join(',')}`,
                  );
                }
              }
            } finally {
              await client.schedule.getHandle(id).delete();
            }
          }),
        ),
      ),
    );
    console.log(
      `DST oracle (server): ${zones.length} zones × ${policies.length} policies, ${oracleExpressions.length} expressions per schedule, ${calls} ListScheduleMatchingTimes calls, ${compared} fires compared, ${mismatches.length} mismatches`,
    );
    assert.ok(zones.length > (process.env.DST_ORACLE === 'full' ? 100 : 25));
    assert.deepEqual(mismatches, []);
  });
});
