import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import pLimit from 'p-limit';
import { describeFireRun, listDeadLetters, type DeadLetter, type DeadLetterQuery } from '../../runs/dead-letters.js';
import { actorOf } from '../auth.js';
import { TeamAccess } from '../team-access.js';
import { FireRunNotFoundError, TaskNotFoundError } from '../../tasks/errors.js';
import type { TaskService } from '../../tasks/service.js';
import { taskIdSchema } from '../../tasks/spec.js';
import { isoTime, pageSize, pageToken, tagParam } from './params.js';

const runParams = z.object({ workflowId: z.string().min(1).max(300) });
/** How many dead letters one bulk request acts on; `more` in its answer says the filter selects more. */
export const BULK_LIMIT = 1000;

const filterFields = {
  taskId: taskIdSchema.optional(),
  tag: tagParam.optional(),
  from: isoTime.optional(),
  to: isoTime.optional(),
  errorType: z.string().min(1).max(200).optional(),
};
type DeadLetterFilter = {
  taskId?: string;
  tag?: { key: string; value: string };
  from?: Date;
  to?: Date;
  errorType?: string;
};
/** A bulk action's filter: at least one field, so a typo never retries or resolves everything. */
const bulkFilter = z
  .strictObject(filterFields)
  .refine(
    (filter) => Object.values(filter).some((value) => value !== undefined),
    'name at least one of taskId, tag, from, to, errorType',
  );
const runId = z
  .string()
  .regex(/^[0-9a-f-]{36}$/, 'not a run id')
  .optional();

/** Dead letters: runs that failed for good, listed across tasks, retried as the same fire, or resolved by hand. */
export function deadLetterRoutes(service: TaskService): FastifyPluginAsyncZod {
  const { client, store } = service;
  /** The run a retry or resolve names (its latest when no run id is given) and its task: one describe. */
  const named = async (access: TeamAccess, workflowId: string, wanted?: string) => {
    const found = await describeFireRun(client, workflowId, wanted);
    if (!found) throw new FireRunNotFoundError(workflowId);
    // Another team's run is answered as one that does not exist.
    await access.requireTask(found.taskId).catch((error: unknown) => {
      throw error instanceof TaskNotFoundError ? new FireRunNotFoundError(workflowId) : error;
    });
    return { taskId: found.taskId, run: { workflowId, runId: found.description.runId } };
  };

  /** The dead-letter query of a filter: a tag or a team scope becomes the ids of the tasks carrying it. */
  const queryOf = async (
    access: TeamAccess,
    { taskId, tag, from, to, errorType }: DeadLetterFilter,
  ): Promise<DeadLetterQuery> => {
    let taskIds: string[] | undefined = taskId ? [taskId] : undefined;
    if (tag || access.scope) {
      const tagged = await store.listIds(undefined, {
        ...(tag ? { tag } : {}),
        ...(access.scope ? { scope: access.scope } : {}),
      });
      taskIds = taskIds ? taskIds.filter((id) => tagged.includes(id)) : tagged;
    }
    return {
      taskQueue: store.taskQueue,
      ...(taskIds ? { taskIds } : {}),
      ...(from ? { from } : {}),
      ...(to ? { to } : {}),
      ...(errorType ? { errorType } : {}),
    };
  };
  /**
   * One audited change per dead letter a filter selects (at most {@link BULK_LIMIT}), 8 at a time; each stands or
   * fails on its own.
   */
  const bulk = async (access: TeamAccess, filter: DeadLetterFilter, act: (letter: DeadLetter) => Promise<unknown>) => {
    const query = await queryOf(access, filter);
    const letters: DeadLetter[] = [];
    let pageToken: string | undefined;
    do {
      const page = await listDeadLetters(client, { ...query, pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
      letters.push(...page.items);
      pageToken = page.nextPageToken;
    } while (pageToken && letters.length <= BULK_LIMIT);
    const chosen = letters.slice(0, BULK_LIMIT);
    const failed: { workflowId: string; runId: string; error: string }[] = [];
    const limit = pLimit(8);
    await Promise.all(
      chosen.map((letter) =>
        limit(async () => {
          try {
            await act(letter);
          } catch (error) {
            failed.push({ workflowId: letter.workflowId, runId: letter.runId, error: (error as Error).message });
          }
        }),
      ),
    );
    return {
      selected: chosen.length,
      done: chosen.length - failed.length,
      failed,
      more: letters.length > BULK_LIMIT || Boolean(pageToken),
    };
  };

  return async (app) => {
    app.get(
      '/v1/dead-letters',
      {
        config: { scope: 'read' },
        schema: {
          summary:
            'Runs that failed for good, across tasks, the latest failure first; retried and resolved ones left out',
          description:
            "Items are shaped like the runs of `GET /v1/tasks/{id}/runs`, plus `taskId` and the handler's " +
            '`errorType`. `errorType` filters after a page is read, so a page may hold fewer than `pageSize` items ' +
            'while `nextPageToken` says more may follow.',
          tags: ['dead letters'],
          querystring: z.object({ ...filterFields, pageSize, pageToken }),
        },
      },
      async (request) => {
        const { pageSize: size, pageToken: token, ...filter } = request.query;
        return listDeadLetters(client, {
          ...(await queryOf(TeamAccess.of(request, store), filter)),
          pageSize: size,
          ...(token ? { pageToken: token } : {}),
        });
      },
    );

    app.post(
      '/v1/runs/:workflowId/retry',
      {
        config: { scope: 'write' },
        schema: {
          summary: 'Run a dead letter’s fire again: same task, nominal time and idempotency key; audited',
          description:
            "The new run has the same workflow id (the fire) and a new run id; the ledger shows the fire's best " +
            "outcome and every try. `spec`: the task's `current` spec (default) or the failed run's `original` input. " +
            '409 when the run is not a dead letter (not failed, retried since, or resolved).',
          tags: ['dead letters'],
          params: runParams,
          body: z.strictObject({ runId, spec: z.enum(['current', 'original']).default('current') }).default({
            spec: 'current',
          }),
        },
      },
      async (request, reply) => {
        const access = TeamAccess.of(request, store);
        const { taskId, run } = await named(access, request.params.workflowId, request.body.runId);
        const result = await service.change({
          action: 'retry',
          taskId,
          actor: actorOf(request),
          source: 'api',
          run,
          spec: request.body.spec,
        });
        return reply.status(202).send({ taskId, retried: run, run: result.run });
      },
    );

    app.post(
      '/v1/runs/:workflowId/resolve',
      {
        config: { scope: 'write' },
        schema: {
          summary: 'Mark a dead letter handled by hand; audited, it leaves the list',
          tags: ['dead letters'],
          params: runParams,
          body: z.strictObject({ runId, note: z.string().trim().min(1).max(2000) }),
        },
      },
      async (request) => {
        const access = TeamAccess.of(request, store);
        const { taskId, run } = await named(access, request.params.workflowId, request.body.runId);
        await service.change({
          action: 'resolve',
          taskId,
          actor: actorOf(request),
          source: 'api',
          run,
          note: request.body.note,
        });
        return { taskId, resolved: run, note: request.body.note };
      },
    );

    app.post(
      '/v1/dead-letters/retry',
      {
        config: { scope: 'write' },
        schema: {
          summary: `Retry every dead letter a filter selects (at most ${BULK_LIMIT}), each audited on its own`,
          tags: ['dead letters'],
          body: z.strictObject({ filter: bulkFilter, spec: z.enum(['current', 'original']).default('current') }),
        },
      },
      async (request) => {
        const { filter, spec } = request.body;
        return bulk(TeamAccess.of(request, store), filter, (letter) =>
          service.change({
            action: 'retry',
            taskId: letter.taskId,
            actor: actorOf(request),
            source: 'api',
            run: { workflowId: letter.workflowId, runId: letter.runId },
            spec,
          }),
        );
      },
    );

    app.post(
      '/v1/dead-letters/resolve',
      {
        config: { scope: 'write' },
        schema: {
          summary: `Resolve every dead letter a filter selects (at most ${BULK_LIMIT}), each audited on its own`,
          tags: ['dead letters'],
          body: z.strictObject({ filter: bulkFilter, note: z.string().trim().min(1).max(2000) }),
        },
      },
      async (request) => {
        const { filter, note } = request.body;
        return bulk(TeamAccess.of(request, store), filter, (letter) =>
          service.change({
            action: 'resolve',
            taskId: letter.taskId,
            actor: actorOf(request),
            source: 'api',
            run: { workflowId: letter.workflowId, runId: letter.runId },
            note,
          }),
        );
      },
    );
  };
}
