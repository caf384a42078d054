import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Readiness } from '../../temporal/readiness.js';

/** `/livez`: the process answers. `/readyz`: Temporal is reachable and a worker polls surecron's task queue. */
export function healthRoutes(readiness: () => Promise<Readiness>): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/livez',
      { config: { scope: 'public' }, schema: { hide: true, response: { 200: z.object({ status: z.literal('ok') }) } } },
      async () => ({ status: 'ok' as const }),
    );
    app.get('/readyz', { config: { scope: 'public' }, schema: { hide: true } }, async (_request, reply) => {
      const result = await readiness();
      return reply
        .status(result.ready ? 200 : 503)
        .send({ status: result.ready ? 'ready' : 'not ready', checks: result.checks });
    });
  };
}
