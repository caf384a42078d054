import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SilenceStore } from '../../alerting/silences.js';
import { taskIdSchema } from '../../tasks/spec.js';
import { HttpProblem } from '../problem.js';

const silenceBody = z
  .strictObject({
    match: z
      .strictObject({
        taskId: taskIdSchema.optional(),
        tag: z
          .string()
          .regex(/^[^=]+=.*$/, 'must be key=value')
          .optional(),
        severity: z.enum(['P0', 'P1', 'P2']).optional(),
      })
      .refine((m) => m.taskId || m.tag || m.severity, 'match at least one of taskId, tag, severity'),
    startsAt: z.iso.datetime({ offset: true }).optional(),
    endsAt: z.iso.datetime({ offset: true }),
    reason: z.string().min(1).max(500),
  })
  .superRefine((body, ctx) => {
    const starts = body.startsAt ? Date.parse(body.startsAt) : Date.now();
    if (Date.parse(body.endsAt) <= Math.max(starts, Date.now())) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be in the future and after startsAt' });
    }
  });

/** Silences: maintenance windows and noise control for alerts. */
export function silenceRoutes(silences: SilenceStore): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/silences',
      {
        config: { scope: 'write' },
        schema: { summary: 'Silence matching alerts until endsAt', tags: ['alerts'], body: silenceBody },
      },
      async (request, reply) => {
        const { startsAt, endsAt, ...rest } = request.body;
        const silence = await silences.add({
          ...rest,
          endsAt: new Date(endsAt).toISOString(),
          ...(startsAt ? { startsAt: new Date(startsAt).toISOString() } : {}),
          createdBy: request.principal?.name ?? 'unknown',
        });
        return reply.status(201).send(silence);
      },
    );
    app.get(
      '/v1/silences',
      { config: { scope: 'read' }, schema: { summary: 'Active silences', tags: ['alerts'] } },
      async () => ({
        items: await silences.list(),
      }),
    );
    app.delete(
      '/v1/silences/:id',
      {
        config: { scope: 'write' },
        schema: { summary: 'End a silence', tags: ['alerts'], params: z.object({ id: z.uuid() }) },
      },
      async (request, reply) => {
        if (!(await silences.remove(request.params.id)))
          throw new HttpProblem(404, 'Not found', `silence ${request.params.id} not found`);
        return reply.status(204).send();
      },
    );
  };
}
