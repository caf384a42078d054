import { after, describe, it } from 'node:test';
import { full, killAll, scale } from './chaos-lib.js';
import { workerKillSettings, workerKillsScenario } from './worker-kills-scenario.js';

/**
 * Worker processes are `kill -9`ed again and again while a task fires every 2 s, each kill landing in the middle
 * of a handler attempt. Every fire must still complete exactly once (ledger), the idempotent side effect must
 * hold each key once, and the retries must show as extra attempts. Second half of the full run; skipped at reduced scale.
 */
describe(`chaos: worker processes killed mid-activity (part 2) (${scale}, ${workerKillSettings.kills} kills)`, () => {
  after(killAll);

  it(
    'every fire completes exactly once, side effects once per key, retries visible',
    { timeout: 290_000, skip: full ? false : 'the second half runs only at full scale (npm run test:chaos)' },
    (t) => workerKillsScenario(t, 'worker-kills-2'),
  );
});
