import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth.js';
import { tagText } from './params.js';
import type { AlertStateStore } from '../../alerting/alert-state.js';
import type { FastifyRequest } from 'fastify';
import type { Silence } from '../../contract/alert.js';
import { scopeWithin } from '../../contract/team-scope.js';
import { scopeAdmits } from '../team-access.js';
import { taskIdSchema } from '../../tasks/spec.js';
import { HttpProblem } from '../problem.js';

const silenceBody = z
  .strictObject({
    match: z
      .strictObject({
        taskId: taskIdSchema.optional(),
        tag: tagText.optional(),
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

/**
 * A team-scoped token sees (and ends) only the silences that act within its scope: those made by a token of the same
 * scope or a narrower one. An unscoped token sees all.
 */
const visible = (request: FastifyRequest, silence: Silence): boolean => {
  const scope = request.principal?.teamScope;
  return !scope || (silence.match.scope !== undefined && scopeWithin(silence.match.scope, scope));
};

/** True when the request's token reaches an alert of a task with these tags. */
const inScope = (request: FastifyRequest, tags: readonly string[]): boolean =>
  scopeAdmits(request.principal?.teamScope, tags);

/**
 * Silences (maintenance windows and noise control; a team-scoped token's silence stays in its scope) and open alerts
 * with their acknowledgement.
 */
export function alertRoutes(alerts: AlertStateStore): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/v1/silences',
      {
        config: { scope: 'write' },
        schema: { summary: 'Silence matching alerts until endsAt', tags: ['alerts'], body: silenceBody },
      },
      async (request, reply) => {
        const { startsAt, endsAt, match, ...rest } = request.body;
        const scope = request.principal?.teamScope;
        const silence = await alerts.addSilence({
          ...rest,
          match: { ...match, ...(scope ? { scope } : {}) },
          endsAt: new Date(endsAt).toISOString(),
          ...(startsAt ? { startsAt: new Date(startsAt).toISOString() } : {}),
          createdBy: actorOf(request),
        });
        return reply.status(201).send(silence);
      },
    );
    app.get(
      '/v1/silences',
      { config: { scope: 'read' }, schema: { summary: 'Active silences', tags: ['alerts'] } },
      async (request) => ({
        items: (await alerts.silences()).filter((silence) => visible(request, silence)),
      }),
    );
    app.get(
      '/v1/alerts',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Open alerts: conditions that alerted and have not cleared, the newest first',
          description:
            'Each with its deliveries (`sent`: the first and every re-alert), its escalations, and who acknowledged ' +
            'it. An alert clears once its condition is not raised again for its quiet period (`quietMs`: the dedup ' +
            'window, or the re-alert interval when longer), or a failure once the task recovers.',
          tags: ['alerts'],
        },
      },
      async (request) => ({
        items: (await alerts.openAlerts()).filter((alert) => inScope(request, alert.tags)),
      }),
    );
    app.post(
      '/v1/alerts/:id/ack',
      {
        config: { scope: 'write' },
        schema: {
          summary: 'Acknowledge an open alert: no more re-alerts, no escalation, until its condition clears',
          tags: ['alerts'],
          params: z.object({ id: z.uuid() }),
          body: z.strictObject({ note: z.string().trim().min(1).max(1000).optional() }).nullish(),
        },
      },
      async (request) => {
        const { id } = request.params;
        const note = request.body?.note;
        // A team-scoped token acknowledges only its team's alerts: read the alert's tags first.
        const reachable =
          !request.principal?.teamScope ||
          (await alerts.openAlerts()).some((alert) => alert.id === id && inScope(request, alert.tags));
        const acked = reachable ? await alerts.ack({ id, by: actorOf(request), ...(note ? { note } : {}) }) : undefined;
        if (!acked) throw new HttpProblem(404, 'Not found', `no open alert ${id}`);
        return acked;
      },
    );
    app.delete(
      '/v1/silences/:id',
      {
        config: { scope: 'write' },
        schema: { summary: 'End a silence', tags: ['alerts'], params: z.object({ id: z.uuid() }) },
      },
      async (request, reply) => {
        const silence = (await alerts.silences()).find(({ id }) => id === request.params.id);
        if (!silence || !visible(request, silence) || !(await alerts.removeSilence(request.params.id)))
          throw new HttpProblem(404, 'Not found', `silence ${request.params.id} not found`);
        return reply.status(204).send();
      },
    );
  };
}
