import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import pLimit from 'p-limit';
import { z } from 'zod';
import { actorOf } from '../auth.js';
import { specChanged } from '../../activities/watchdog.js';
import { backfillOverlapPolicies, backfillTimes } from '../../tasks/backfill.js';
import { explainTask, explainVerdicts } from '../../runs/explain.js';
import { taskLedger } from '../../runs/ledger.js';
import { listRuns, runStatuses } from '../../runs/runs.js';
import type { TaskService } from '../../tasks/service.js';
import { taskIdSchema, taskSpecSchema } from '../../tasks/spec.js';
import { validateTask, type TaskRules } from '../../tasks/validate.js';
import { HttpProblem } from '../problem.js';
import { TeamAccess } from '../team-access.js';
import { toTaskView } from '../task-view.js';
import { isoTime, pageSize, pageToken, tagParam } from './params.js';

const idParams = z.object({ id: taskIdSchema });
/** Run lists read at once for a page of tasks. */
const runsLimit = pLimit(16);
const noteBody = z.strictObject({ note: z.string().max(1000).optional() }).nullish();
const explanation = z.object({
  verdict: z.enum(explainVerdicts),
  summary: z.string(),
  evidence: z.record(z.string(), z.unknown()),
});
const explainResponse = explanation.extend({
  taskId: z.string(),
  at: z.string(),
  nominalTime: z.string().optional(),
  neighbours: z.array(explanation.extend({ nominalTime: z.string() })).optional(),
});

/** Task routes: CRUD, pause/resume, trigger, backfill, runs, the ledger and explain. */
export function taskRoutes(service: TaskService, rules: TaskRules): FastifyPluginAsyncZod {
  const { store, client } = service;
  // The schedule and its recent runs are read at once; a task that does not exist answers 404 all the same.
  const view = async (access: TeamAccess, id: string) => {
    const runs = listRuns(client, id, { pageSize: 10, includeErrors: true });
    runs.catch(() => undefined);
    const task = await access.task(id);
    return toTaskView(task, (await runs).items);
  };
  const accessOf = (request: FastifyRequest) => TeamAccess.of(request, store);

  return async (app) => {
    app.get(
      '/v1/tasks',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'List tasks, newest first, each with its last 5 runs',
          tags: ['tasks'],
          querystring: z.object({
            tag: tagParam.optional(),
            paused: z.enum(['true', 'false']).optional(),
            pageSize,
            pageToken,
          }),
        },
      },
      async (request) => {
        const { tag, paused, pageSize: size, pageToken: token } = request.query;
        const { scope } = accessOf(request);
        const page = await store.list({
          ...(tag ? { tag } : {}),
          ...(scope ? { scope } : {}),
          ...(paused ? { paused: paused === 'true' } : {}),
          pageSize: size,
          ...(token ? { pageToken: token } : {}),
        });
        // Each listed task with its last few runs, read 16 tasks at a time (errors only in the task's own view).
        const recent = await Promise.all(
          page.items.map((task) =>
            runsLimit(async () => (await listRuns(client, task.id, { pageSize: 5, includeErrors: false })).items),
          ),
        );
        return {
          items: page.items.map((task, i) => toTaskView(task, recent[i] ?? [])),
          ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
        };
      },
    );

    app.post(
      '/v1/tasks',
      { config: { scope: 'write' }, schema: { summary: 'Create a task', tags: ['tasks'], body: taskSpecSchema } },
      async (request, reply) => {
        const spec = validateTask(request.body, rules);
        const access = accessOf(request);
        access.requireSpec(spec);
        await service.change({ action: 'create', taskId: spec.id, actor: actorOf(request), source: 'api', spec });
        return reply.status(201).send(await view(access, spec.id));
      },
    );

    app.get(
      '/v1/tasks/:id',
      { config: { scope: 'read' }, schema: { summary: 'Get a task', tags: ['tasks'], params: idParams } },
      async (request) => view(accessOf(request), request.params.id),
    );

    app.put(
      '/v1/tasks/:id',
      {
        config: { scope: 'write' },
        schema: { summary: 'Create or replace a task', tags: ['tasks'], params: idParams, body: taskSpecSchema },
      },
      async (request, reply) => {
        if (request.body.id !== request.params.id) {
          throw new HttpProblem(
            400,
            'Invalid request',
            `body id "${request.body.id}" differs from path id "${request.params.id}"`,
            [{ path: 'body.id', message: 'must equal the path id' }],
          );
        }
        const spec = validateTask(request.body, rules);
        const access = accessOf(request);
        await access.requireWritable(spec);
        const result = await service.change({
          action: 'update',
          taskId: spec.id,
          actor: actorOf(request),
          source: 'api',
          spec,
        });
        return reply.status(result.created ? 201 : 200).send(await view(access, spec.id));
      },
    );

    app.delete(
      '/v1/tasks/:id',
      { config: { scope: 'write' }, schema: { summary: 'Delete a task', tags: ['tasks'], params: idParams } },
      async (request, reply) => {
        await accessOf(request).requireTask(request.params.id);
        await service.change({ action: 'delete', taskId: request.params.id, actor: actorOf(request), source: 'api' });
        return reply.status(204).send();
      },
    );

    for (const action of ['pause', 'resume'] as const) {
      app.post(
        `/v1/tasks/:id/${action}`,
        {
          config: { scope: 'write' },
          schema: {
            summary: `${action === 'pause' ? 'Pause' : 'Resume'} a task`,
            tags: ['tasks'],
            params: idParams,
            body: noteBody,
          },
        },
        async (request) => {
          const { id } = request.params;
          const note = request.body?.note;
          const task = await accessOf(request).task(id);
          await service.change({
            action,
            taskId: id,
            actor: actorOf(request),
            source: task.source,
            ...(note ? { note } : {}),
          });
          return view(accessOf(request), id);
        },
      );
    }

    app.post(
      '/v1/tasks/:id/trigger',
      { config: { scope: 'write' }, schema: { summary: 'Run a task now', tags: ['tasks'], params: idParams } },
      async (request, reply) => {
        const { id } = request.params;
        const task = await accessOf(request).task(id);
        const result = await service.change({
          action: 'trigger',
          taskId: id,
          actor: actorOf(request),
          source: task.source,
        });
        return reply.status(202).send(result.run);
      },
    );

    app.post(
      '/v1/tasks/:id/backfill',
      {
        config: { scope: 'write' },
        schema: {
          summary: 'Run a task for past fire times in [from, to); a `to` in the future stops at now',
          tags: ['tasks'],
          params: idParams,
          body: z.strictObject({
            from: isoTime,
            to: isoTime,
            overlap: z.enum(backfillOverlapPolicies).optional(),
          }),
        },
      },
      async (request, reply) => {
        const { id } = request.params;
        const { from, overlap } = request.body;
        // Fires still to come are the schedule's: running them now would take their workflow ids from it.
        const to = new Date(Math.min(request.body.to.getTime(), Date.now()));
        if (from >= request.body.to)
          throw new HttpProblem(400, 'Invalid request', '"from" must be before "to"', [
            { path: 'body.to', message: 'must be after from' },
          ]);
        if (from >= to)
          throw new HttpProblem(400, 'Invalid request', 'a backfill covers past fire times only', [
            { path: 'body.from', message: 'must be in the past' },
          ]);
        const task = await accessOf(request).task(id);
        backfillTimes(task.spec.schedule, from, to);
        const started = await service.start({
          action: 'backfill',
          taskId: id,
          actor: actorOf(request),
          source: task.source,
          from: from.toISOString(),
          to: to.toISOString(),
          ...(overlap ? { overlap } : {}),
        });
        return reply.status(202).send(started);
      },
    );

    app.get(
      '/v1/tasks/:id/runs',
      {
        config: { scope: 'read' },
        schema: {
          summary: "List a task's runs, newest first",
          tags: ['runs'],
          params: idParams,
          querystring: z.object({
            status: z.enum(runStatuses).optional(),
            from: isoTime.optional(),
            to: isoTime.optional(),
            pageSize,
            pageToken,
          }),
        },
      },
      async (request) => {
        await accessOf(request).task(request.params.id);
        return listRuns(client, request.params.id, { ...request.query, includeErrors: true });
      },
    );

    app.get(
      '/v1/tasks/:id/ledger',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Every fire time in [from, to) matched with the runs that happened',
          tags: ['runs'],
          params: idParams,
          querystring: z.object({ from: isoTime.optional(), to: isoTime.optional() }),
        },
      },
      async (request) => {
        const to = request.query.to ?? new Date();
        const from = request.query.from ?? new Date(to.getTime() - 86_400_000);
        if (from >= to)
          throw new HttpProblem(400, 'Invalid request', '"from" must be before "to"', [
            { path: 'querystring.to', message: 'must be after from' },
          ]);
        await accessOf(request).requireTask(request.params.id);
        const ledger = await taskLedger(client, request.params.id, from, to);
        // A deleted task still has a ledger; one that never existed has none.
        if (ledger.items.length === 0) await store.get(request.params.id);
        return ledger;
      },
    );

    app.get(
      '/v1/tasks/:id/explain',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'Why a task did or did not run at an instant: a verdict and its evidence',
          description:
            'For a fire time: `ran`, `running`, `pending`, `paused`, `skipped_overlap`, `outside_catchup_window`, ' +
            '`dropped_by_pause`, `no_worker`, `schedule_drift`, `duplicate` or `missed`, with the runs, audit ' +
            'entries, outage interval or watchdog rounds it rests on. For another instant: `dst_policy` (a wall time ' +
            'a DST policy skipped, with the `dst_skipped` run if the server fired it) or `not_a_fire_time` with the ' +
            'neighbouring fire times, the spec version in force and the verdicts on those neighbours.',
          tags: ['runs'],
          params: idParams,
          querystring: z.object({ at: isoTime }),
          response: { 200: explainResponse },
        },
      },
      async (request) => {
        await accessOf(request).requireTask(request.params.id);
        return explainTask(client, store, request.params.id, request.query.at, { specChanged });
      },
    );
  };
}
