import { z } from 'zod';

/** Thrown when an environment variable has a value surecron cannot use; names the variable. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly variable: string,
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** JWT signing algorithms surecron accepts: asymmetric only (no `none`, no HMAC, so a public key is never a secret). */
export const jwtAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** An empty value means "unset", so `${VAR:-}` in compose files falls back to the default. */
const blankIsUnset = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === 'string' && value.trim() === '' ? undefined : value), schema);
const port = z.coerce.number().int().min(1).max(65535);
const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

/**
 * Every environment variable surecron reads, with its default. Scripts outside the repo rely on these
 * names: keep them exactly as they are.
 */
export const envSchema = z.object({
  SURECRON_API_PORT: blankIsUnset(port.default(8080)),
  SURECRON_API_HOST: blankIsUnset(z.string().min(1).default('127.0.0.1')),
  /** Requests per minute one caller (token, else address) may make; health probes and metrics are exempt. */
  SURECRON_API_RATE_LIMIT: blankIsUnset(z.coerce.number().int().min(1).default(3000)),
  SURECRON_API_TOKEN: optionalString.pipe(z.string().min(16, 'must be at least 16 characters').optional()),
  /** Named tokens: `name:token:read|write[,…]`. */
  SURECRON_API_TOKENS: optionalString,
  /** JWT bearer tokens from an identity provider: its key set, or its issuer (OIDC discovery finds the key set). */
  SURECRON_JWT_JWKS_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  SURECRON_JWT_ISSUER: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  /** The `aud` a token must carry; required with JWTs. */
  SURECRON_JWT_AUDIENCE: optionalString,
  /** The claim holding the token's roles (`read`, `write`, `admin`). */
  SURECRON_JWT_ROLES_CLAIM: blankIsUnset(z.string().min(1).default('roles')),
  /** The claim holding the `key=value` tags a token is limited to. */
  SURECRON_JWT_SCOPE_CLAIM: blankIsUnset(z.string().min(1).default('surecron_scope')),
  /** The signing algorithms accepted (asymmetric only), comma-separated. */
  SURECRON_JWT_ALGORITHMS: blankIsUnset(
    z
      .string()
      .default('RS256,PS256,ES256,EdDSA')
      .transform((value) => value.split(',').map((alg) => alg.trim()))
      .pipe(z.array(z.enum(jwtAlgorithms, 'an asymmetric JWS algorithm, e.g. RS256')).min(1)),
  ),
  /** Seconds of clock skew tolerated on `exp` and `nbf`. */
  SURECRON_JWT_CLOCK_SKEW: blankIsUnset(z.coerce.number().int().min(0).max(600).default(30)),
  /** A dead letter nobody retried or resolved this long after it failed alerts `dead_letter_unresolved`; 0: off. */
  SURECRON_DEAD_LETTER_ALERT_AFTER: blankIsUnset(
    z
      .string()
      .regex(/^(0|(\d+(ms|s|m|h|d))+)$/, 'a duration such as 24h or 1h30m, or 0 (off)')
      .default('24h'),
  ),
  SURECRON_DATA_DIR: blankIsUnset(z.string().min(1).default('.data')),
  /** Embedded mode: how long Temporal keeps closed runs and audit entries (the ledger's horizon). */
  SURECRON_RETENTION_DAYS: blankIsUnset(z.coerce.number().int().min(1).max(3650).default(90)),
  SURECRON_TASK_QUEUE: blankIsUnset(z.string().min(1).default('surecron')),
  SURECRON_WORKFLOW_BUNDLE: optionalString,
  SURECRON_HTTP_ALLOWLIST: optionalString,
  SURECRON_LOG_LEVEL: blankIsUnset(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ),
  SURECRON_LOG_FORMAT: blankIsUnset(z.enum(['json', 'pretty', 'auto']).default('auto')),
  /** Alert channels and routes (YAML or JSON). */
  SURECRON_ALERTS_FILE: optionalString,
  /** Alone configures a generic webhook channel that gets every alert. */
  SURECRON_ALERT_WEBHOOK_URL: optionalString,
  SURECRON_ALERT_WEBHOOK_SECRET: optionalString,
  /** Signs `notify` callbacks. */
  SURECRON_CALLBACK_SECRET: optionalString,
  /** The worker's Prometheus endpoint (surecron's task metrics and Temporal's runtime metrics); unset: off. */
  SURECRON_WORKER_METRICS_PORT: blankIsUnset(port.optional()),
  /** Interface the worker's metrics endpoint binds to: loopback unless a scraper elsewhere needs it. */
  SURECRON_WORKER_METRICS_HOST: blankIsUnset(z.string().min(1).default('127.0.0.1')),
  /** `npm run cluster`: Temporal server nodes, surecron workers, and history shards (fixed at first start). */
  SURECRON_CLUSTER_NODES: blankIsUnset(z.coerce.number().int().min(1).max(9).default(3)),
  SURECRON_CLUSTER_WORKERS: blankIsUnset(z.coerce.number().int().min(1).max(16).default(2)),
  SURECRON_CLUSTER_SHARDS: blankIsUnset(z.coerce.number().int().min(1).max(16384).default(16)),
  /** Workflow starts a second the Temporal cluster sustains: what `POST /v1/simulate` holds crowds against. */
  SURECRON_CLUSTER_START_RATE: blankIsUnset(z.coerce.number().positive().max(1_000_000).optional()),
  /** Set by `npm run cluster` for its API: `/readyz` also waits until every node of that cluster has joined. */
  SURECRON_CLUSTER_FILE: optionalString,
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: blankIsUnset(z.string().min(1).default('default')),
  TEMPORAL_PORT: blankIsUnset(port.default(7233)),
  TEMPORAL_UI_PORT: blankIsUnset(port.default(8233)),
  TEMPORAL_CLI: optionalString,
  /** `npm run cluster`: a `temporal-server` binary (with `temporal-sql-tool` beside it), and the Web UI server. */
  TEMPORAL_SERVER: optionalString,
  TEMPORAL_UI_SERVER: optionalString,
  /** `npm run cluster`: PostgreSQL's server binaries (default: the newest /usr/lib/postgresql/<version>/bin). */
  SURECRON_PG_BIN: optionalString,
});

/** The env var names surecron knows; deployment files may use only these. */
export const knownEnvVars: readonly string[] = Object.keys(envSchema.shape);

export type Config = z.infer<typeof envSchema>;

/**
 * Parses surecron's configuration from the environment, once, at start-up.
 * @throws {ConfigError} naming the first variable whose value is invalid.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const result = envSchema.safeParse(env);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const variable = String(issue?.path[0] ?? 'environment');
  const value = env[variable];
  throw new ConfigError(
    `invalid ${variable}${value === undefined ? '' : `=${JSON.stringify(variable.includes('TOKEN') ? '***' : value)}`}: ${issue?.message ?? 'invalid value'}`,
    variable,
  );
}

/**
 * A configuration as environment variables again, for the processes a supervisor starts: the variables surecron
 * knows come from `config` alone (never inherited from this process's environment), everything else is passed on.
 */
export function childEnv(config: Config, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const child: NodeJS.ProcessEnv = Object.fromEntries(
    Object.entries(env).filter(([key]) => !knownEnvVars.includes(key)),
  );
  for (const [key, value] of Object.entries(config)) if (value !== undefined) child[key] = String(value);
  return child;
}
