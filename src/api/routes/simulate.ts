import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import pLimit from 'p-limit';
import { z } from 'zod';
import { TaskValidationError } from '../../tasks/errors.js';
import type { TaskService } from '../../tasks/service.js';
import {
  MAX_SIMULATION_MS,
  simulate,
  specSimulationTask,
  startRates,
  storedSimulationTask,
  type SimulationTask,
} from '../../tasks/simulate.js';
import { taskIdSchema } from '../../tasks/spec.js';
import { validateTasks, type TaskRules } from '../../tasks/validate.js';
import { isoTime } from './params.js';
import { TeamAccess } from '../team-access.js';

/** Tasks one simulation may cover. */
const MAX_TASKS = 20_000;

export const simulateBody = z
  .strictObject({
    tasks: z.array(z.unknown()).max(MAX_TASKS).optional(),
    taskIds: z.array(taskIdSchema).max(MAX_TASKS).optional(),
    from: isoTime,
    to: isoTime,
    startRate: z.number().positive().max(1_000_000).optional(),
    suggest: z.boolean().default(true),
  })
  .superRefine((body, ctx) => {
    if (!body.tasks?.length && !body.taskIds?.length) {
      ctx.addIssue({ code: 'custom', message: 'needs "tasks" or "taskIds"', path: [] });
    }
    const span = body.to.getTime() - body.from.getTime();
    if (span <= 0) ctx.addIssue({ code: 'custom', message: 'must be after from', path: ['to'] });
    else if (span > MAX_SIMULATION_MS) {
      ctx.addIssue({ code: 'custom', message: 'the window may span at most 10 years (3653 days)', path: ['to'] });
    }
  });

/** Simulations run one at a time: each holds a few tens of MB of per-second counts while it runs. */
const oneAtATime = pLimit(1);
const described = pLimit(16);

/** `POST /v1/simulate`: a window of fires of given and stored tasks, their crowds, and jitters that remove them. */
export function simulateRoutes(
  service: TaskService,
  rules: TaskRules,
  clusterStartRate?: number,
): FastifyPluginAsyncZod {
  const { store } = service;
  return async (app) => {
    app.post(
      '/v1/simulate',
      {
        config: { scope: 'read' },
        schema: {
          summary:
            'Simulate up to 10 years of fires of the given tasks and stored ones: fires and DST events per task, the peak ' +
            'starts per second, the seconds crowded beyond the start rate, and a verified jitter per crowding task',
          tags: ['schedules'],
          body: simulateBody,
        },
      },
      async (request) => {
        const { tasks = [], taskIds = [], from, to, startRate, suggest } = request.body;
        const { specs, issues } = validateTasks(tasks, rules);
        const given = new Map<string, SimulationTask>();
        // With every task valid, spec i is body task i.
        for (const [index, spec] of issues.length ? [] : specs.entries()) {
          if (given.has(spec.id))
            issues.push({ path: `tasks.${index}.id`, message: `task id ${spec.id} is given twice` });
          given.set(spec.id, specSimulationTask(spec));
        }
        if (issues.length) throw new TaskValidationError(issues);
        // A stored task that is also given is simulated as given: the body is the change being considered.
        const ids = [...new Set(taskIds)].filter((id) => !given.has(id));
        // @throws TaskNotFoundError (404) for an id that is not this deployment's task, or not the token's team's.
        const access = TeamAccess.of(request, store);
        const stored = await Promise.all(ids.map((id) => described(() => access.task(id))));
        const all = [...stored.map(storedSimulationTask), ...given.values()];
        const rates = startRates({
          ...(startRate !== undefined ? { requested: startRate } : {}),
          ...(clusterStartRate !== undefined ? { cluster: clusterStartRate } : {}),
        });
        return oneAtATime(async () => simulate(all, { fromMs: from.getTime(), toMs: to.getTime(), rates, suggest }));
      },
    );
  };
}
