import { Option, type Command } from 'commander';
import {
  circuitBreakerSchema,
  concurrencySchema,
  handlerSchema,
  rateLimitSchema,
  retrySchema,
  timeoutsSchema,
} from '../../tasks/spec.js';
import { contextOf } from '../context.js';
import { UsageError } from '../errors.js';
import { readDocument } from '../files.js';
import { segment } from '../http.js';
import { check, isoTime, jsonText, nonEmpty, parser } from '../validate.js';
import { objectDetails } from '../views.js';

interface SubmitOptions {
  handlerFile?: string;
  function?: string;
  input?: unknown;
  key: string;
  runAt?: string;
  retry?: unknown;
  timeouts?: unknown;
  concurrency?: unknown;
  rateLimit?: unknown;
  circuitBreaker?: unknown;
}

async function handlerFrom(options: SubmitOptions): Promise<unknown> {
  if (options.handlerFile !== undefined) {
    const handler = await readDocument(options.handlerFile);
    check(handlerSchema, handler, `handler in ${options.handlerFile}`);
    return handler;
  }
  if (options.function === undefined) throw new UsageError('jobs submit needs --handler-file or --function');
  const handler = { type: 'function', name: options.function };
  check(handlerSchema, handler, 'handler');
  return handler;
}

/** `surecron jobs submit|get`: one-off jobs, deduplicated by idempotency key. */
export function registerJobs(program: Command): void {
  const jobs = program.command('jobs').description('submit and inspect one-off jobs');

  jobs
    .command('submit')
    .description('run a handler once (now or at --run-at), at most once per --key')
    .addOption(new Option('--handler-file <file>', 'handler as JSON or YAML').conflicts('function'))
    .option('--function <name>', 'registered function handler to run')
    .option('--input <json>', 'input for the handler (JSON)', parser(jsonText))
    .requiredOption('--key <idempotencyKey>', 'idempotency key: resubmitting it returns the same job', parser(nonEmpty))
    .option('--run-at <iso>', 'when to run (ISO 8601); default now', parser(isoTime))
    .option('--retry <json>', 'retry policy (JSON), e.g. {"maxAttempts":3}', parser(jsonText.pipe(retrySchema)))
    .option('--timeouts <json>', 'timeouts (JSON), e.g. {"attempt":"30s"}', parser(jsonText.pipe(timeoutsSchema)))
    .option(
      '--concurrency <json>',
      'concurrency group (JSON), e.g. {"group":"erp","limit":3}',
      parser(jsonText.pipe(concurrencySchema)),
    )
    .option(
      '--rate-limit <json>',
      'rate group (JSON), e.g. {"group":"erp-api","perSecond":5}',
      parser(jsonText.pipe(rateLimitSchema)),
    )
    .option(
      '--circuit-breaker <json>',
      'circuit breaker (JSON), e.g. {"key":"erp-api","failures":5,"window":10,"openFor":"5s"}',
      parser(jsonText.pipe(circuitBreakerSchema)),
    )
    .action(async (options: SubmitOptions, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { input, key, runAt, retry, timeouts, concurrency, rateLimit, circuitBreaker } = options;
      const request = {
        handler: await handlerFrom(options),
        ...(input !== undefined ? { input } : {}),
        idempotencyKey: key,
        ...(runAt !== undefined ? { runAt } : {}),
        ...(retry !== undefined ? { retry } : {}),
        ...(timeouts !== undefined ? { timeouts } : {}),
        ...(concurrency !== undefined ? { concurrency } : {}),
        ...(rateLimit !== undefined ? { rateLimit } : {}),
        ...(circuitBreaker !== undefined ? { circuitBreaker } : {}),
      };
      const { body } = await api.request<{ jobId: string; workflowId: string }>('POST', '/v1/jobs', { body: request });
      out.print(body, () => objectDetails(out, body));
    });

  jobs
    .command('get')
    .description('show a job')
    .argument('<jobId>', 'job id', parser(nonEmpty))
    .action(async (jobId: string, _options: unknown, cmd: Command) => {
      const { api, out } = contextOf(cmd);
      const { body } = await api.request<unknown>('GET', `/v1/jobs/${segment(jobId)}`);
      out.print(body, () => objectDetails(out, body));
    });
}
