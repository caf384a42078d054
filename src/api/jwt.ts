import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError, type Config } from '../config.js';
import type { Principal, Scope } from './auth.js';
import { parseTeamScope, TeamScopeError, type TeamScope } from '../contract/team-scope.js';

export interface JwtConfig {
  /** `SURECRON_JWT_JWKS_URL`: the key set; else discovered from the issuer. */
  jwksUrl?: string;
  /** `SURECRON_JWT_ISSUER`: the required `iss`, and where OIDC discovery looks when no JWKS URL is given. */
  issuer?: string;
  /** `SURECRON_JWT_AUDIENCE`: the required `aud`. */
  audience: string;
  /** `SURECRON_JWT_ROLES_CLAIM` (default `roles`): `read`, `write` or `admin`, as a list or space-separated. */
  rolesClaim: string;
  /** `SURECRON_JWT_SCOPE_CLAIM` (default `surecron_scope`): the `key=value` tags the token is limited to. */
  scopeClaim: string;
  /** `SURECRON_JWT_ALGORITHMS`: asymmetric algorithms only. */
  algorithms: string[];
  /** `SURECRON_JWT_CLOCK_SKEW`: tolerance for `exp` and `nbf`, in seconds. */
  clockToleranceSeconds: number;
  /** How long after a key-set fetch an unknown `kid` may fetch it again (ms; default 30 s). */
  refetchCooldownMs?: number;
}

/** Why a bearer JWT was not accepted: 401 (not a valid token for us) or 403 (valid, without a role). */
export type JwtOutcome =
  { ok: true; principal: Principal & { subject: string } } | { ok: false; status: 401 | 403; detail: string };

const roleScopes: Record<string, Scope> = { read: 'read', write: 'write', admin: 'write' };

const list = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((v): v is string => typeof v === 'string')
    : typeof value === 'string'
      ? value.split(/[\s,]+/).filter(Boolean)
      : [];

/** A bearer token shaped like a JWS compact serialization (three base64url parts). */
export const looksLikeJwt = (token: string): boolean => /^[\w-]+\.[\w-]+\.[\w-]*$/.test(token);

/**
 * Verifies bearer JWTs against the identity provider's keys (`jose`): signature with a pinned asymmetric algorithm,
 * `iss`, `aud`, `exp` and `nbf` (with the configured skew), and a subject. The key set is fetched once and cached;
 * a token with an unknown `kid` fetches it again (after the cooldown), so rotated keys are picked up.
 */
export class JwtVerifier {
  private keys: Promise<JWTVerifyGetKey> | undefined;

  constructor(private readonly config: JwtConfig) {}

  async verify(token: string): Promise<JwtOutcome> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, await this.keySet(), {
        algorithms: this.config.algorithms,
        audience: this.config.audience,
        ...(this.config.issuer ? { issuer: this.config.issuer } : {}),
        clockTolerance: this.config.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof errors.JOSEError)
        return { ok: false, status: 401, detail: `bearer token: ${reason(error)}` };
      throw error;
    }
    const subject = payload.sub as string;
    const roles = list(payload[this.config.rolesClaim]);
    const scopes = roles.map((role) => roleScopes[role]).filter((scope): scope is Scope => scope !== undefined);
    if (!scopes.length)
      return { ok: false, status: 403, detail: `token of "${subject}" has no surecron role (read, write or admin)` };
    const tags = list(payload[this.config.scopeClaim]);
    let teamScope: TeamScope | undefined;
    try {
      teamScope = tags.length ? parseTeamScope(tags) : undefined;
    } catch (error) {
      // A scope the API cannot read must not widen into no scope at all.
      if (error instanceof TeamScopeError)
        return { ok: false, status: 403, detail: `token of "${subject}": ${this.config.scopeClaim}: ${error.message}` };
      throw error;
    }
    return {
      ok: true,
      principal: {
        name: subject,
        subject,
        scope: scopes.includes('write') ? 'write' : 'read',
        ...(teamScope ? { teamScope } : {}),
      },
    };
  }

  private keySet(): Promise<JWTVerifyGetKey> {
    this.keys ??= this.jwksUrl().then((url) =>
      createRemoteJWKSet(url, { cooldownDuration: this.config.refetchCooldownMs ?? 30_000, timeoutDuration: 5000 }),
    );
    // A failed discovery is tried again by the next request, not remembered.
    this.keys.catch(() => (this.keys = undefined));
    return this.keys;
  }

  private async jwksUrl(): Promise<URL> {
    if (this.config.jwksUrl) return new URL(this.config.jwksUrl);
    const issuer = this.config.issuer as string;
    const response = await fetch(
      new URL('.well-known/openid-configuration', issuer.endsWith('/') ? issuer : `${issuer}/`),
      {
        signal: AbortSignal.timeout(5000),
      },
    );
    if (!response.ok) throw new Error(`OIDC discovery at ${issuer}: HTTP ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (document.issuer !== issuer)
      throw new Error(`OIDC discovery at ${issuer}: the document names issuer ${String(document.issuer)}`);
    if (typeof document.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${issuer}: no jwks_uri`);
    return new URL(document.jwks_uri);
  }
}

/** A client-facing reason: which check failed, never the token or key material. */
function reason(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `claim "${error.claim}" ${error.reason === 'check_failed' ? 'is not accepted' : 'is missing'}`;
  if (error instanceof errors.JWKSNoMatchingKey) return 'signed with an unknown key';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature does not verify';
  return 'not a valid token';
}

/**
 * The JWT settings of a configuration, or undefined when JWTs are off (neither a JWKS URL nor an issuer).
 * @throws {ConfigError} when a key source is set without an audience, or an audience without a key source.
 */
export function jwtConfigOf(config: Config): JwtConfig | undefined {
  const { SURECRON_JWT_JWKS_URL: jwksUrl, SURECRON_JWT_ISSUER: issuer, SURECRON_JWT_AUDIENCE: audience } = config;
  if (!jwksUrl && !issuer) {
    if (audience)
      throw new ConfigError(
        'SURECRON_JWT_AUDIENCE needs SURECRON_JWT_JWKS_URL or SURECRON_JWT_ISSUER',
        'SURECRON_JWT_AUDIENCE',
      );
    return undefined;
  }
  if (!audience)
    throw new ConfigError(
      'JWTs need SURECRON_JWT_AUDIENCE: the audience a token must be issued for',
      'SURECRON_JWT_AUDIENCE',
    );
  return {
    ...(jwksUrl ? { jwksUrl } : {}),
    ...(issuer ? { issuer } : {}),
    audience,
    rolesClaim: config.SURECRON_JWT_ROLES_CLAIM,
    scopeClaim: config.SURECRON_JWT_SCOPE_CLAIM,
    algorithms: config.SURECRON_JWT_ALGORITHMS,
    clockToleranceSeconds: config.SURECRON_JWT_CLOCK_SKEW,
  };
}
