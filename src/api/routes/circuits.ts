import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listCircuits } from '../../runs/circuits.js';
import type { TaskService } from '../../tasks/service.js';
import { TeamAccess } from '../team-access.js';

const circuitsResponse = z.object({
  items: z.array(
    z.object({
      key: z.string(),
      state: z.enum(['closed', 'open', 'halfOpen']),
      since: z.string(),
      halfOpenAt: z.string().optional(),
      trialBy: z.string().optional(),
      recentFailures: z.number().int(),
      recentCalls: z.number().int(),
      failures: z.number().int(),
      window: z.number().int(),
      openForMs: z.number().int(),
      opened: z.number().int(),
      calls: z.number().int(),
      failed: z.number().int(),
    }),
  ),
});

/** Circuit breakers: one per dependency key, with its state and the calls it counted. */
export function circuitRoutes(service: TaskService): FastifyPluginAsyncZod {
  const { client, store } = service;
  return async (app) => {
    app.get(
      '/v1/circuits',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Circuit breakers: state per dependency',
          description:
            'Every dependency key whose calls a breaker has counted (a breaker begins with its first failed call), as its ' +
            'workflow holds it now: `closed`, `open` (calls wait until `halfOpenAt`) or `halfOpen` (one trial call). A ' +
            'team-scoped token sees every breaker (dependencies are shared) but not which run holds the trial.',
          tags: ['circuits'],
          response: { 200: circuitsResponse },
        },
      },
      async (request) => {
        const circuits = await listCircuits(client, store.taskQueue);
        if (!TeamAccess.of(request, store).scope) return { items: circuits };
        // A dependency is shared between teams; the run holding its trial may be another team's.
        return { items: circuits.map(({ trialBy: _trialBy, ...circuit }) => circuit) };
      },
    );
  };
}
