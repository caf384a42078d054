import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf } from '../auth.js';
import { previewSchedule } from '../../tasks/preview.js';
import { getJob, submitJob } from '../../runs/jobs.js';
import { RunNotFoundError, runDetail } from '../../runs/run-detail.js';
import { TeamAccess } from '../team-access.js';
import { applyTasks } from '../../tasks/apply.js';
import { listAudit } from '../../tasks/audit.js';
import type { TaskService } from '../../tasks/service.js';
import {
  concurrencySchema,
  handlerSchema,
  rateLimitSchema,
  circuitBreakerSchema,
  retrySchema,
  scheduleSchema,
  taskIdSchema,
  timeoutsSchema,
} from '../../tasks/spec.js';
import { TaskValidationError } from '../../tasks/errors.js';
import { scheduleIssues, validateTask, validateTasks, type TaskRules } from '../../tasks/validate.js';
import { isoTime, pageSize, pageToken } from './params.js';

/** Preview, single runs, one-off jobs, the audit trail and apply. */
export function operationRoutes(service: TaskService, rules: TaskRules): FastifyPluginAsyncZod {
  const { client, store } = service;
  return async (app) => {
    app.post(
      '/v1/preview',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Next fire times of a schedule, strictly after `from` (default now), without creating anything',
          tags: ['schedules'],
          body: z.strictObject({
            schedule: scheduleSchema,
            count: z.number().int().min(1).max(1000).default(10),
            from: isoTime.optional(),
          }),
        },
      },
      async (request) => {
        const { schedule, count, from } = request.body;
        const issues = scheduleIssues(schedule);
        if (issues.length) throw new TaskValidationError(issues);
        return { runs: previewSchedule(schedule, { count, from: from ?? new Date() }) };
      },
    );

    app.get(
      '/v1/runs/:workflowId',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'A run with its input, every attempt and its result',
          tags: ['runs'],
          params: z.object({ workflowId: z.string().min(1).max(300) }),
        },
      },
      async (request) => {
        const run = await runDetail(client, request.params.workflowId);
        // A run is a team's when its task's tags, as it started with them, are within the token's scope.
        if (!TeamAccess.of(request, store).admitsRun((run.input as { tags?: string[] } | undefined)?.tags))
          throw new RunNotFoundError(request.params.workflowId);
        return run;
      },
    );

    app.post(
      '/v1/jobs',
      {
        config: { scope: 'write' },
        schema: {
          summary: 'Submit a one-off run; one idempotency key, one job, one execution',
          tags: ['jobs'],
          body: z.strictObject({
            handler: handlerSchema,
            input: z.unknown().optional(),
            idempotencyKey: z.string().min(1).max(200),
            runAt: isoTime.optional(),
            retry: retrySchema.optional(),
            timeouts: timeoutsSchema.optional(),
            concurrency: concurrencySchema.optional(),
            rateLimit: rateLimitSchema.optional(),
            circuitBreaker: circuitBreakerSchema.optional(),
          }),
        },
      },
      async (request, reply) => {
        TeamAccess.of(request, store).requireUnscoped('one-off jobs');
        const { runAt, ...job } = request.body;
        // Checked like a task's: registered names, allowed http targets, coherent retry and timeouts.
        if (job.input !== undefined && job.handler.type === 'http') {
          throw new TaskValidationError([
            { path: 'input', message: 'an http job takes its request from handler.body' },
          ]);
        }
        const { retry, timeouts, circuitBreaker } = job;
        validateTask(
          { id: 'job', schedule: { every: '24h' }, handler: job.handler, retry, timeouts, circuitBreaker },
          rules,
        );
        const submitted = await submitJob(client, store.taskQueue, {
          ...job,
          ...(runAt ? { runAt: runAt.toISOString() } : {}),
        });
        return reply.status(202).send(submitted);
      },
    );

    app.get(
      '/v1/jobs/:jobId',
      {
        config: { scope: 'read' },
        schema: {
          summary: "A job's status and result",
          tags: ['jobs'],
          params: z.object({ jobId: z.string().regex(/^[0-9a-f]{32}$/, 'not a job id') }),
        },
      },
      async (request) => {
        TeamAccess.of(request, store).requireUnscoped('one-off jobs');
        return getJob(client, request.params.jobId);
      },
    );

    app.get(
      '/v1/audit',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Every change to tasks, newest first',
          description:
            'One item per task a change touched, at the time the change took effect on that task. Changes made at ' +
            'once (an `apply`, concurrent writes by one caller) are recorded together as one batch entry; `pageSize` ' +
            'counts recorded entries, so a page holds one item per task of each batch on it and may hold more ' +
            'items than `pageSize`.',
          tags: ['audit'],
          querystring: z.object({
            taskId: taskIdSchema.optional(),
            from: isoTime.optional(),
            to: isoTime.optional(),
            pageSize,
            pageToken,
          }),
        },
      },
      async (request) => {
        const page = await listAudit(client, { ...request.query, taskQueue: store.taskQueue });
        const access = TeamAccess.of(request, store);
        if (!access.scope) return page;
        // A team's entries: its tasks' now, and those whose spec before or after was within its scope.
        const visible = new Set(await access.taskIds());
        const specTags = (state: unknown) => (state as { tags?: Record<string, string> } | undefined)?.tags;
        const items = page.items.filter(
          (entry) =>
            visible.has(entry.taskId) ||
            [entry.before, entry.after].some((state) => specTags(state) && access.admits(specTags(state))),
        );
        return { ...page, items };
      },
    );

    app.post(
      '/v1/apply',
      {
        config: { scope: 'write' },
        schema: {
          summary: 'Reconcile a set of API tasks: create, update, and with prune delete the API tasks not listed',
          tags: ['tasks'],
          body: z.strictObject({ tasks: z.array(z.unknown()).max(1000), prune: z.boolean().default(false) }),
        },
      },
      async (request) => {
        const { specs, issues } = validateTasks(request.body.tasks, rules);
        if (issues.length) throw new TaskValidationError(issues);
        const access = TeamAccess.of(request, store);
        if (!access.scope)
          return applyTasks(service.writer(actorOf(request)), specs, { prune: request.body.prune, source: 'api' });
        // Scoped: every spec stays within the scope, another team's task is skipped, a prune sees only the team's.
        for (const spec of specs) access.requireSpec(spec);
        const visible = new Set(await access.taskIds());
        const taken = new Set(await store.listIds());
        const foreign = specs.filter((spec) => taken.has(spec.id) && !visible.has(spec.id));
        const writer = service.writer(actorOf(request));
        const result = await applyTasks(
          { ...writer, listIds: async (source) => (await writer.listIds(source)).filter((id) => visible.has(id)) },
          specs.filter((spec) => !foreign.includes(spec)),
          { prune: request.body.prune, source: 'api' },
        );
        result.skipped.push(...foreign.map(({ id }) => ({ id, reason: "outside the token's team scope" })));
        return result;
      },
    );
  };
}
