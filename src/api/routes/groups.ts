import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listGroups } from '../../runs/groups.js';
import type { TaskService } from '../../tasks/service.js';
import { TeamAccess } from '../team-access.js';

const member = z.object({
  workflowId: z.string(),
  taskId: z.string(),
  nominalTime: z.string(),
  /** When the group received the run's request (ms since the epoch). */
  askedAt: z.number(),
  grantedAt: z.number().optional(),
});

const groupsResponse = z.object({
  items: z.array(
    z.object({
      group: z.string(),
      kind: z.enum(['concurrency', 'rate']),
      limit: z.number().int().optional(),
      perSecond: z.number().optional(),
      running: z.number().int(),
      waiting: z.number().int(),
      granted: z.number().int(),
      runningRuns: z.array(member),
      waitingRuns: z.array(member),
    }),
  ),
});

/** Concurrency and rate groups: their limits and who holds or waits for their permits. */
export function groupRoutes(service: TaskService): FastifyPluginAsyncZod {
  const { client, store } = service;
  return async (app) => {
    app.get(
      '/v1/groups',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Concurrency and rate groups: limit, running, waiting',
          description:
            "Every group a task or job of this deployment has used, as its workflow holds it now. `running` and `waiting` count every run of the group; a team-scoped token's `runningRuns` and `waitingRuns` list only its own tasks' runs.",
          tags: ['groups'],
          response: { 200: groupsResponse },
        },
      },
      async (request) => {
        const groups = await listGroups(client, store.taskQueue);
        const visible = await TeamAccess.of(request, store).taskIds();
        if (!visible) return { items: groups };
        const own = new Set(visible);
        return {
          items: groups.map((group) => ({
            ...group,
            runningRuns: group.runningRuns.filter((run) => own.has(run.taskId)),
            waitingRuns: group.waitingRuns.filter((run) => own.has(run.taskId)),
          })),
        };
      },
    );
  };
}
