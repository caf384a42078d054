import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { STATUS_CODES } from 'node:http';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import {
  FireRunNotFoundError,
  FireRunStateError,
  TaskConflictError,
  TaskExistsError,
  TaskNotFoundError,
  TaskOwnershipError,
} from '../tasks/errors.js';
import { TaskValidationError, type ValidationIssue } from '../tasks/errors.js';
import { JobNotFoundError } from '../runs/jobs.js';
import { LedgerWindowTooLargeError } from '../runs/ledger.js';
import { RunNotFoundError } from '../runs/run-detail.js';
import { InvalidPageTokenError } from '../temporal/visibility.js';

/** RFC 9457 problem details, as every API error is sent. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: ValidationIssue[];
}

/** An error that already knows its HTTP status. */
export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
    readonly errors?: ValidationIssue[],
  ) {
    super(detail);
  }
}

const typeBase = 'https://surecron.dev/problems/';

function toProblem(error: unknown): Problem {
  const problem = (
    status: number,
    slug: string,
    title: string,
    detail: string,
    errors?: ValidationIssue[],
  ): Problem => ({
    type: `${typeBase}${slug}`,
    title,
    status,
    detail,
    ...(errors ? { errors } : {}),
  });
  if (error instanceof HttpProblem) {
    return problem(
      error.status,
      error.status === 400 ? 'validation' : error.title.toLowerCase().replace(/\s+/g, '-'),
      error.title,
      error.message,
      error.errors,
    );
  }
  if (error instanceof TaskValidationError)
    return problem(400, 'validation', 'Invalid request', error.message, [...error.issues]);
  if (error instanceof TaskNotFoundError || error instanceof RunNotFoundError || error instanceof JobNotFoundError) {
    return problem(404, 'not-found', 'Not found', error.message);
  }
  if (error instanceof InvalidPageTokenError)
    return problem(400, 'validation', 'Invalid request', error.message, [
      { path: 'querystring.pageToken', message: 'not a page token this API handed out' },
    ]);
  if (error instanceof LedgerWindowTooLargeError)
    return problem(400, 'window-too-large', 'Invalid request', error.message);
  if (error instanceof TaskExistsError) return problem(409, 'already-exists', 'Already exists', error.message);
  if (error instanceof TaskOwnershipError) return problem(409, 'ownership', 'Managed elsewhere', error.message);
  if (error instanceof TaskConflictError) return problem(409, 'conflict', 'Conflict', error.message);
  if (error instanceof FireRunNotFoundError) return problem(404, 'not-found', 'Not found', error.message);
  if (error instanceof FireRunStateError) return problem(409, 'not-a-dead-letter', 'Not a dead letter', error.message);
  if (hasZodFastifySchemaValidationErrors(error)) {
    const errors = error.validation.map((v) => ({
      path: [error.validationContext, ...v.instancePath.split('/').filter(Boolean)].join('.'),
      message: v.message ?? 'invalid',
    }));
    return problem(
      400,
      'validation',
      'Invalid request',
      errors.map((e) => `${e.path}: ${e.message}`).join('; '),
      errors,
    );
  }
  const fastifyError = error as Partial<FastifyError>;
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    return problem(
      status,
      `http-${status}`,
      STATUS_CODES[status] ?? 'Bad request',
      fastifyError.message ?? 'bad request',
    );
  }
  return problem(500, 'internal', 'Internal error', 'the server could not complete the request; see its logs');
}

/** Fastify error handler: every error becomes `application/problem+json`, never a stack trace. */
export function sendProblem(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const body = toProblem(error);
  if (body.status >= 500) request.log.error({ err: error }, 'request failed');
  return reply.status(body.status).type('application/problem+json').send(body);
}
