import { Queue, Worker, type Job } from 'bullmq';
import { cadenceOf, mapLimit } from '../lib/cadence.js';
import type { Recorder, RunnerConfig, RunningSystem } from '../lib/protocol.js';

const schedulerId = (i: number): string => `s-${String(i).padStart(4, '0')}`;

/** The time a scheduler job was due: scheduler job ids are `repeat:<schedulerId>:<nextMillis>`. */
function scheduledAt(job: Job): number {
  const fromId = Number(job.id?.split(':').pop());
  return Number.isFinite(fromId) && fromId > 0 ? fromId : job.timestamp + (job.opts.delay ?? 0);
}

/** BullMQ job schedulers (`upsertJobScheduler` with a cron pattern) and a Worker in this process. */
export async function startBullmq(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  const connection = { host: '127.0.0.1', port: config.redisPort as number };
  const name = `bench-${config.size}-${Date.now()}`;
  const queue = new Queue(name, { connection });
  // Concurrency 100 matches a Temporal worker's default of 100 concurrent activities.
  const worker = new Worker(
    name,
    async (job: Job<{ i: number }>) => {
      const start = Date.now();
      record(job.data.i, scheduledAt(job), start);
    },
    { connection, concurrency: 100 },
  );
  await worker.waitUntilReady();
  const indexes = Array.from({ length: config.size }, (_, i) => i);
  await mapLimit(indexes, 16, async (i) => {
    await queue.upsertJobScheduler(
      schedulerId(i),
      { pattern: cadenceOf(config).cronOf(i), tz: 'UTC' },
      { name: 'bench', data: { i }, opts: { removeOnComplete: { count: 1000 }, removeOnFail: { count: 1000 } } },
    );
  });
  return {
    stop: async () => {
      await mapLimit(indexes, 16, async (i) => {
        await queue.removeJobScheduler(schedulerId(i));
      });
      await worker.close();
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
}
