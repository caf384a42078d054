import { Worker } from '@temporalio/worker';
import { mapLimit, offsetSeconds, PERIOD_MS } from '../lib/cadence.js';
import type { Recorder, RunnerConfig, RunningSystem } from '../lib/protocol.js';
import type { BareActivities } from '../bare-workflows.js';
import { connect, deleteSchedule, runWorker } from './temporal-common.js';

const TASK_QUEUE = 'bench-bare';
const scheduleId = (i: number): string => `bare-${String(i).padStart(4, '0')}`;

/** Bare Temporal: `client.schedule.create` with an interval spec, a one-activity workflow, a plain Worker. */
export async function startTemporal(config: RunnerConfig, record: Recorder): Promise<RunningSystem> {
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
  });
  const { stopWorker } = runWorker(worker, client, native);
  const indexes = Array.from({ length: config.size }, (_, i) => i);
  await mapLimit(indexes, 16, async (i) => {
    await client.schedule.create({
      scheduleId: scheduleId(i),
      spec: { intervals: [{ every: PERIOD_MS, offset: offsetSeconds(i) * 1000 }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'benchBare',
        workflowId: scheduleId(i),
        taskQueue: TASK_QUEUE,
        args: [i],
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
