import { Cron } from 'croner';
import { cadenceOf } from '../lib/cadence.js';
import type { Recorder, RunnerConfig, RunningSystem } from '../lib/protocol.js';

/**
 * In-process croner jobs. croner triggers a job only once its target time has passed, so the intended time is the
 * latest slot of the job's cadence at or before the callback.
 */
export async function startCroner(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  const cadence = cadenceOf(config);
  const jobs = Array.from(
    { length: config.size },
    (_, i) =>
      new Cron(cadence.cronOf(i), { timezone: 'UTC' }, () => {
        const start = Date.now();
        record(i, cadence.slotAtOrBefore(start, i), start);
      }),
  );
  return {
    stop: async () => {
      for (const job of jobs) job.stop();
    },
  };
}
