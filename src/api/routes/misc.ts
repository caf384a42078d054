import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { previewSchedule } from '../../tasks/preview.js';
import { getJob, submitJob } from '../../runs/jobs.js';
import { runDetail } from '../../runs/run-detail.js';
import { applyTasks } from '../../tasks/apply.js';
import { listAudit } from '../../tasks/audit.js';
import type { TaskService } from '../../tasks/service.js';
import { handlerSchema, retrySchema, scheduleSchema, taskIdSchema, timeoutsSchema } from '../../tasks/spec.js';
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
      async (request) => runDetail(client, request.params.workflowId),
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
          }),
        },
      },
      async (request, reply) => {
        const { runAt, ...job } = request.body;
        // Checked like a task's: registered names, allowed http targets, coherent retry and timeouts.
        if (job.input !== undefined && job.handler.type === 'http') {
          throw new TaskValidationError([
            { path: 'input', message: 'an http job takes its request from handler.body' },
          ]);
        }
        const { retry, timeouts } = job;
        validateTask({ id: 'job', schedule: { every: '24h' }, handler: job.handler, retry, timeouts }, rules);
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
      async (request) => getJob(client, request.params.jobId),
    );

    app.get(
      '/v1/audit',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Every change to tasks, newest first',
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
      async (request) => listAudit(client, { ...request.query, taskQueue: store.taskQueue }),
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
        return applyTasks(service.writer(request.principal?.name ?? 'unknown'), specs, {
          prune: request.body.prune,
          source: 'api',
        });
      },
    );
  };
}
