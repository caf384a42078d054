import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '@temporalio/client';
import type { RunTaskInput } from '../../src/contract/run.js';
import { previewSchedule } from '../../src/tasks/preview.js';
import { taskSpecSchema, type ScheduleDef } from '../../src/tasks/spec.js';
import { serverMatchingTimes, testClient, testStore, uniqueId } from '../helpers/temporal.js';

/**
 * The preview must equal what runs: the server's ListScheduleMatchingTimes for the schedule surecron created, less
 * the nominal times its DST guard skips. Compared over DST transitions in zones west and east of UTC.
 */
const cases: { name: string; schedule: ScheduleDef; from: string; to: string }[] = [
  {
    name: 'hourly across New York spring forward',
    schedule: { cron: '0 * * * *', timezone: 'America/New_York' },
    from: '2027-03-14T03:00:00Z',
    to: '2027-03-14T10:00:00Z',
  },
  {
    name: '02:30 daily in New York (does not exist on 03-14)',
    schedule: { cron: '30 2 * * *', timezone: 'America/New_York' },
    from: '2027-03-12T00:00:00Z',
    to: '2027-03-17T00:00:00Z',
  },
  {
    name: '01:30 daily in New York (twice on 11-07)',
    schedule: { cron: '30 1 * * *', timezone: 'America/New_York' },
    from: '2027-11-05T00:00:00Z',
    to: '2027-11-09T00:00:00Z',
  },
  {
    name: 'every 20 min in 01h New York fall back',
    schedule: { cron: '*/20 1 * * *', timezone: 'America/New_York' },
    from: '2027-11-07T03:00:00Z',
    to: '2027-11-07T09:00:00Z',
  },
  {
    name: 'hourly across Berlin fall back',
    schedule: { cron: '0 * * * *', timezone: 'Europe/Berlin' },
    from: '2027-10-30T21:00:00Z',
    to: '2027-10-31T05:00:00Z',
  },
  {
    name: '01:30 daily in Berlin',
    schedule: { cron: '30 1 * * *', timezone: 'Europe/Berlin' },
    from: '2027-10-29T00:00:00Z',
    to: '2027-11-02T00:00:00Z',
  },
  {
    name: 'quarter hours in Berlin fall back',
    schedule: { cron: '*/15 * * * *', timezone: 'Europe/Berlin' },
    from: '2027-10-30T23:30:00Z',
    to: '2027-10-31T02:30:00Z',
  },
  {
    name: 'dom/dow OR, Shanghai',
    schedule: { cron: '0 9 13 * FRI', timezone: 'Asia/Shanghai' },
    from: '2027-01-01T00:00:00Z',
    to: '2027-04-01T00:00:00Z',
  },
  {
    name: 'Quartz second Monday',
    schedule: { cron: '0 30 8 ? * MON#2 *' },
    from: '2027-01-01T00:00:00Z',
    to: '2027-07-01T00:00:00Z',
  },
  {
    name: 'seconds-first step',
    schedule: { cron: '5/20 * * * * ?' },
    from: '2027-01-01T00:00:00Z',
    to: '2027-01-01T00:03:00Z',
  },
  {
    name: 'every 90s with offset',
    schedule: { every: '90s', offset: '10s' },
    from: '2027-01-01T00:00:00Z',
    to: '2027-01-01T00:10:00Z',
  },
  {
    name: 'list of crons with @every',
    schedule: { cron: ['0 12 * * MON-FRI', '@every 7h'], timezone: 'Asia/Kolkata' },
    from: '2027-02-01T00:00:00Z',
    to: '2027-02-08T00:00:00Z',
  },
];

describe('preview equals what the server fires', () => {
  let client: Client;
  before(async () => {
    client = await testClient();
  });
  after(async () => {
    await client.connection.close();
  });

  for (const { name, schedule, from, to } of cases) {
    it(name, async () => {
      const id = uniqueId('preview');
      const store = testStore(client, uniqueId('tq'));
      await store.create(
        taskSpecSchema.parse({ id, schedule, handler: { type: 'function', name: 'heartbeat' }, paused: true }),
        'api',
      );
      try {
        const times = await serverMatchingTimes(client, id, Date.parse(from), Date.parse(to));
        // What runs: the server's fire times less the nominal times the run's DST guard ends at once.
        const { action } = await client.schedule.getHandle(id).describe();
        const skips =
          action.type === 'startWorkflow' ? ((action.args?.[0] as RunTaskInput | undefined)?.dstSkips ?? []) : [];
        const server = times
          .map((at) => new Date(at).toISOString().replace('.000Z', 'Z'))
          .filter((at) => !skips.some(([a, b]) => Date.parse(at) >= Date.parse(a) && Date.parse(at) <= Date.parse(b)));
        const preview = previewSchedule(schedule, { from: new Date(from), count: 1000 })
          .map((run) => run.at)
          .filter((at) => Date.parse(at) <= Date.parse(to));
        assert.ok(server.length > 0, 'the server lists fire times in the window');
        assert.deepEqual(preview, server);
      } finally {
        await client.schedule.getHandle(id).delete();
      }
    });
  }
});
