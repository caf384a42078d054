import { Worker } from '@temporalio/worker';
import { cadenceOf, mapLimit } from '../lib/cadence.js';
import type { Recorder, RunnerConfig, RunningSystem } from '../lib/protocol.js';
import type { BareActivities } from '../bare-workflows.js';
import { connect, deleteSchedule, runWorker } from './temporal-common.js';

const TASK_QUEUE = 'bench-bare';
export const scheduleId = (i: number): string => `bare-${String(i).padStart(4, '0')}`;
/** How far ahead of the nominal time the fire-ahead variant's schedules fire. */
export const FIRE_AHEAD_MS = 2_000;

/** Bare Temporal: `client.schedule.create` with an interval spec, a one-activity workflow, a plain Worker. */
export function startTemporal(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  return startBare(config, record, 0);
}

/**
 * Bare Temporal with fire-ahead: each schedule fires {@link FIRE_AHEAD_MS} early and its workflow sleeps on a
 * durable timer until the nominal time, then runs the same activity.
 */
export function startTemporalAhead(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
  return startBare(config, record, FIRE_AHEAD_MS);
}

async function startBare(config: RunnerConfig, record: Recorder, leadMs: number): Promise<RunningSystem> {
  const { client, native } = await connect(config.address as string);
  const activities: BareActivities = {
    async benchActivity(i, nominalMs) {
      record(i, nominalMs, Date.now());
    },
  };
  const worker = await Worker.create({
    connection: native,
    namespace: 'default',
    taskQueue: TASK_QUEUE,
    activities,
    workflowBundle: { codePath: config.bareBundle as string },
    shutdownGraceTime: '2s',
    ...config.workerOptions,
  });
  const { stopWorker } = runWorker(worker, client, native);
  const indexes = Array.from({ length: config.size }, (_, i) => i);
  const cadence = cadenceOf(config);
  const { periodMs } = cadence;
  await mapLimit(indexes, 16, async (i) => {
    await client.schedule.create({
      scheduleId: scheduleId(i),
      spec: {
        intervals: [{ every: periodMs, offset: (cadence.offsetSeconds(i) * 1000 - leadMs + periodMs) % periodMs }],
      },
      action: {
        type: 'startWorkflow',
        workflowType: leadMs ? 'benchBareAhead' : 'benchBare',
        workflowId: scheduleId(i),
        taskQueue: TASK_QUEUE,
        args: leadMs ? [i, leadMs] : [i],
      },
      // The same policies surecron gives its schedules by default.
      policies: { overlap: 'SKIP', catchupWindow: '1h' },
    });
  });
  return {
    stop: async () => {
      await mapLimit(indexes, 16, (i) => deleteSchedule(client, scheduleId(i)));
      await stopWorker();
    },
  };
}
