import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dstCorrections, MAX_DST_ADDITIONS, TooManyDstCorrectionsError } from '../../src/tasks/dst-corrections.js';
import { firesBetween } from '../../src/tasks/fires.js';
import { serverTimezone } from '../../src/tasks/schedule-def.js';
import { scheduleIssues } from '../../src/tasks/validate.js';

const from = Date.parse('2027-01-01T00:00:00Z');

describe('the bound on DST corrections', () => {
  it('a fixed hour with minute fields fits: `* 2 * * *` in Berlin needs 183 additions over 3 years', () => {
    const corrections = dstCorrections({ cron: '* 2 * * *', timezone: 'Europe/Berlin' }, from);
    // 60 first-copy minutes of the repeated 02:00 hour each autumn, plus the shifted spring fire: 61 a year.
    assert.equal(corrections.additions.length, 183);
    assert.deepEqual(scheduleIssues({ cron: '* 2 * * *', timezone: 'Europe/Berlin' }, from), []);
  });

  it('per-second fields in a repeated hour are refused, with the path and the way out', () => {
    for (const cron of ['* * 2 * * *', '*/10 * 2 * * *']) {
      assert.throws(
        () => dstCorrections({ cron, timezone: 'Europe/Berlin' }, from),
        (error) => error instanceof TooManyDstCorrectionsError && error.zone === 'Europe/Berlin',
        cron,
      );
      const issues = scheduleIssues({ cron, timezone: 'Europe/Berlin' }, from);
      assert.equal(issues.length, 1, cron);
      assert.equal(issues[0]?.path, 'schedule.cron');
      assert.match(issues[0]?.message ?? '', new RegExp(`more than ${MAX_DST_ADDITIONS} extra fires`));
      assert.match(issues[0]?.message ?? '', /write the hour as "\*" or a step/);
    }
  });

  it('the same expression west of UTC or following real time needs few: nothing to refuse', () => {
    assert.equal(dstCorrections({ cron: '* * 2 * * *', timezone: 'America/New_York' }, from).additions.length, 3);
    // Every hour, every day, quarter-hour-periodic minutes: the server walks it in UTC, where nothing changes.
    for (const cron of ['* * * * * *', '*/5 * * * *', '0 */15 * * * *']) {
      assert.equal(serverTimezone({ cron, timezone: 'Europe/Berlin' }), 'UTC', cron);
      const corrections = dstCorrections({ cron, timezone: 'Europe/Berlin' }, from);
      assert.deepEqual([corrections.additions.length, corrections.skips.length], [0, 0], cron);
      const window = [Date.parse('2027-10-31T00:00:00Z'), Date.parse('2027-10-31T02:00:00Z')] as const;
      assert.deepEqual(
        firesBetween({ cron, timezone: 'Europe/Berlin' }, ...window, 'server'),
        firesBetween({ cron, timezone: 'Europe/Berlin' }, ...window, 'policy'),
        cron,
      );
    }
    for (const cron of ['0 * * * *', '*/10 * * * *', '* * * * 1-5', '* */2 * * *'])
      assert.equal(serverTimezone({ cron, timezone: 'Europe/Berlin' }), 'Europe/Berlin', cron);
    assert.deepEqual(scheduleIssues({ cron: '* * 2 * * *', timezone: 'America/New_York' }, from), []);
  });
});
