import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { listRuns, runStatuses } from '../../runs/runs.js';
import { taskIdSchema } from '../../tasks/spec.js';
import type { TaskStore } from '../../tasks/store.js';
import { toTaskView } from '../task-view.js';

const idParams = z.object({ id: taskIdSchema });
const pageSize = z.coerce.number().int().min(1).max(1000).default(100);
const isoTime = z.iso.datetime({ offset: true }).transform((value) => new Date(value));

/** Task and run routes. */
export function taskRoutes(store: TaskStore): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/v1/tasks',
      {
        config: { scope: 'read' },
        schema: {
          summary: 'List tasks',
          querystring: z.object({
            tag: z
              .string()
              .regex(/^[^=]+=.*$/, 'must be key=value')
              .optional(),
            paused: z.enum(['true', 'false']).optional(),
            pageSize,
            pageToken: z.string().regex(/^\d+$/, 'invalid page token').optional(),
          }),
        },
      },
      async (request) => {
        const { tag, paused, pageSize: size, pageToken } = request.query;
        const ids = await store.listIds();
        const [tagKey, tagValue] = tag ? [tag.slice(0, tag.indexOf('=')), tag.slice(tag.indexOf('=') + 1)] : [];
        const items = [];
        let index = Number(pageToken ?? 0);
        for (; index < ids.length && items.length < size; index++) {
          const task = await store.get(ids[index] as string).catch(() => undefined);
          if (!task) continue;
          if (tagKey !== undefined && task.spec.tags?.[tagKey] !== tagValue) continue;
          if (paused !== undefined && task.description.state.paused !== (paused === 'true')) continue;
          items.push(toTaskView(task, []));
        }
        return { items, ...(index < ids.length ? { nextPageToken: String(index) } : {}) };
      },
    );

    app.get(
      '/v1/tasks/:id',
      { config: { scope: 'read' }, schema: { summary: 'Get a task', params: idParams } },
      async (request) => {
        const task = await store.get(request.params.id);
        const { items } = await listRuns(store.client, task.id, { pageSize: 10 });
        return toTaskView(task, items);
      },
    );

    app.get(
      '/v1/tasks/:id/runs',
      {
        config: { scope: 'read' },
        schema: {
          summary: "List a task's runs, newest first",
          params: idParams,
          querystring: z.object({
            status: z.enum(runStatuses).optional(),
            from: isoTime.optional(),
            to: isoTime.optional(),
            pageSize,
            pageToken: z
              .string()
              .regex(/^[A-Za-z0-9_-]+$/, 'invalid page token')
              .optional(),
          }),
        },
      },
      async (request) => {
        await store.get(request.params.id);
        return listRuns(store.client, request.params.id, request.query);
      },
    );
  };
}
