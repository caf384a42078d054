import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dstCorrections, inSkip } from '../../src/tasks/dst-corrections.js';
import { firesBetween } from '../../src/tasks/fires.js';
import type { ScheduleDef } from '../../src/tasks/spec.js';
import {
  ORACLE_FROM,
  ORACLE_TO,
  oracleExpressions,
  oracleSeconds,
  oraclePolicies,
  oracleWindows,
  oracleZones,
} from '../helpers/dst-cases.js';
import { oracleFires, oracleWindow } from '../helpers/dst-oracle.js';

const seconds = oracleSeconds();
const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/**
 * Per expression, in process: what surecron sends to the server (the server's walk, ported, over the schedule's
 * calendars plus its DST additions, less the run-time skips) and what the preview says both equal the oracle, in
 * every zone with a transition between 2026 and 2036, under every policy. The same comparison against the real
 * server's ListScheduleMatchingTimes is `test/integration/dst-oracle.test.ts`.
 */
describe('DST policies equal the oracle, per expression, in every zone with transitions 2026–2036', () => {
  it('zero mismatches', () => {
    const zones = oracleZones();
    let compared = 0;
    let windows = 0;
    const mismatches: string[] = [];
    for (const { zone, transitions } of zones) {
      const stretches = oracleWindows(transitions).map(([from, to]) => ({
        from,
        to,
        oracle: oracleWindow(zone, from, to, seconds),
      }));
      windows += stretches.length;
      for (const dst of oraclePolicies) {
        for (const cron of oracleExpressions) {
          const schedule: ScheduleDef = { cron, timezone: zone, dst: { ...dst } };
          const { additions, skips } = dstCorrections(schedule, ORACLE_FROM, ORACLE_TO - ORACLE_FROM);
          for (const { from, to, oracle } of stretches) {
            const want = oracleFires(oracle, cron, dst);
            const runs = firesBetween(schedule, from, to, 'server', undefined, additions).filter(
              (at) => !inSkip(skips, at),
            );
            const preview = firesBetween(schedule, from, to, 'policy');
            compared += want.length;
            for (const [what, got] of [
              ['runs', runs],
              ['preview', preview],
            ] as const) {
              if (JSON.stringify(got) !== JSON.stringify(want) && mismatches.length < 20) {
                const missing = want.filter((at) => !got.includes(at)).map(iso);
                const extra = got.filter((at) => !want.includes(at)).map(iso);
                mismatches.push(
                  `${zone} ${cron} ${JSON.stringify(dst)} ${what}: missing ${missing.join(',')} extra ${extra.join(',')}`,
                );
              }
            }
          }
        }
      }
    }
    console.log(
      `DST oracle (in process): ${zones.length} zones, ${windows} transition windows, ${oracleExpressions.length} expressions × ${oraclePolicies.length} policies, ${compared} fires compared, ${mismatches.length} mismatches`,
    );
    assert.ok(zones.length > (process.env.DST_ORACLE === 'full' ? 100 : 25), `zones with transitions: ${zones.length}`);
    assert.deepEqual(mismatches, []);
  });
});
