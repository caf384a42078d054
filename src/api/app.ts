import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import rateLimit from '@fastify/rate-limit';
import { createHash } from 'node:crypto';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import type { TaskService } from '../tasks/service.js';
import type { TaskRules } from '../tasks/validate.js';
import { operationRoutes } from './routes/misc.js';
import { alertRoutes } from './routes/alerts.js';
import { AlertStateStore } from '../alerting/alert-state.js';
import { metricsRoutes } from './routes/metrics.js';
import { allows, authenticate, bearerToken, type Principal, type Scope, parseTokens } from './auth.js';
import { discardBody } from './oversize.js';
import { deadLetterRoutes } from './routes/dead-letters.js';
import { circuitRoutes } from './routes/circuits.js';
import { groupRoutes } from './routes/groups.js';
import { looksLikeJwt, type JwtVerifier } from './jwt.js';
import { HttpProblem, sendProblem } from './problem.js';
import type { Readiness } from '../temporal/readiness.js';
import { healthRoutes } from './routes/health.js';
import { taskRoutes } from './routes/tasks.js';
import { simulateRoutes } from './routes/simulate.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call the route: anyone (`public`), read tokens or write tokens. */
    scope?: Scope | 'public';
  }
  interface FastifyRequest {
    principal?: Principal;
  }
}

export interface ApiDeps {
  service: TaskService;
  rules: TaskRules;
  logger: Logger;
  /** `SURECRON_API_TOKEN`: full rights. */
  apiToken: string;
  /** `SURECRON_API_TOKENS`: named read/write tokens. */
  namedTokens?: string;
  /** `SURECRON_JWT_*`: bearer JWTs from the user's identity provider, beside the static tokens. */
  jwt?: JwtVerifier;
  readiness: () => Promise<Readiness>;
  /** Requests per minute per caller (default 3000). */
  rateLimitPerMinute?: number;
  /** `SURECRON_CLUSTER_START_RATE`: the cluster's workflow starts per second, for `POST /v1/simulate`. */
  clusterStartRate?: number;
}

/**
 * The principal of a bearer JWT, when JWTs are configured and the token is one.
 * @throws {HttpProblem} 401 for a token that does not verify, 403 for one without a surecron role, 503 when the
 *   identity provider's keys cannot be fetched.
 */
async function jwtPrincipal(
  jwt: JwtVerifier | undefined,
  authorization: string | undefined,
): Promise<Principal | undefined> {
  const token = bearerToken(authorization);
  if (!jwt || !token || !looksLikeJwt(token)) return undefined;
  const outcome = await jwt.verify(token).catch((error: unknown) => {
    throw new HttpProblem(
      503,
      'Service unavailable',
      `the identity provider's keys could not be read: ${(error as Error).message}`,
    );
  });
  if (!outcome.ok)
    throw new HttpProblem(outcome.status, outcome.status === 401 ? 'Unauthorized' : 'Forbidden', outcome.detail);
  return outcome.principal;
}

/** Builds the HTTP API without listening, so tests can `inject()` requests. */
export async function buildApp(deps: ApiDeps) {
  const tokens = parseTokens(deps.apiToken, deps.namedTokens);
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: 'api' }),
    bodyLimit: 256 * 1024,
    // Malformed URLs and the like are answered by the framework itself: as problems too.
    frameworkErrors: (error, request, reply) => void sendProblem(error, request, reply),
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(async (error, request, reply) => {
    // A body over the limit is refused before it is read: read the rest (bounded) so the 413 is not lost to a reset.
    if ((error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE' && (await discardBody(request.raw)))
      reply.removeHeader('connection');
    return sendProblem(error, request, reply);
  });
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      new HttpProblem(404, 'Not found', `no route ${request.method} ${request.url.split('?')[0]}`),
      request,
      reply,
    ),
  );

  // Per caller (token digest, else address); health and metrics are exempt so probes never get throttled.
  await app.register(rateLimit, {
    max: deps.rateLimitPerMinute ?? 3000,
    timeWindow: '1 minute',
    keyGenerator: (request) =>
      request.headers.authorization
        ? createHash('sha256').update(request.headers.authorization).digest('hex')
        : request.ip,
    allowList: (request) => ['/livez', '/readyz', '/metrics'].includes(request.url.split('?')[0] ?? ''),
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'surecron API',
        version: '1',
        description: 'Scheduled tasks on Temporal: define, operate and prove them.',
      },
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'A static token (`SURECRON_API_TOKEN`, `SURECRON_API_TOKENS`) or, with `SURECRON_JWT_*` set, a JWT from ' +
              "the identity provider: signed with one of its keys, for surecron's audience, with a `read`, `write` or " +
              "`admin` role. A token may be team-scoped (a static token's `key=value` tags, the JWT's scope claim): " +
              'it reaches only the tasks whose tags match, and any other task answers 404. 401: no valid token; 403: ' +
              "a valid token without the route's scope, or a spec whose tags leave the token's team scope; 503: the " +
              "identity provider's keys could not be read.",
          },
        },
      },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { config: { scope: 'public' }, schema: { hide: true } }, () => app.swagger());

  app.addHook('onRequest', async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const docs = path === '/docs' || path.startsWith('/docs/');
    const scope = request.routeOptions.config.scope ?? (docs ? 'public' : request.is404 ? 'read' : 'write');
    if (scope === 'public') return;
    const principal =
      authenticate(tokens, request.headers.authorization) ??
      (await jwtPrincipal(deps.jwt, request.headers.authorization));
    if (!principal) throw new HttpProblem(401, 'Unauthorized', 'a valid bearer token is required');
    if (!allows(principal, scope))
      throw new HttpProblem(403, 'Forbidden', `token "${principal.name}" lacks the ${scope} scope`);
    request.principal = principal;
    // The completion line is written through reply.log: both carry the actor.
    request.log = request.log.child({ actor: principal.name });
    reply.log = request.log;
  });

  await app.register(healthRoutes(deps.readiness));
  // fastify-plugin lifts encapsulation, so the metrics hook sees every route.
  await app.register(fastifyPlugin(metricsRoutes()));
  await app.register(taskRoutes(deps.service, deps.rules));
  await app.register(operationRoutes(deps.service, deps.rules));
  await app.register(deadLetterRoutes(deps.service));
  await app.register(groupRoutes(deps.service));
  await app.register(circuitRoutes(deps.service));
  await app.register(simulateRoutes(deps.service, deps.rules, deps.clusterStartRate));
  await app.register(alertRoutes(new AlertStateStore(deps.service.client, deps.service.store.taskQueue)));
  return app;
}
