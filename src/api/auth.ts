import { createHash, timingSafeEqual } from 'node:crypto';
import { registerSecrets } from '../logger.js';
import { parseTeamScope, TeamScopeError, type TeamScope } from '../contract/team-scope.js';

export type Scope = 'read' | 'write';

/** A caller the API knows: a name (the audit actor), what it may do, and to which tasks when team-scoped. */
export interface Principal {
  name: string;
  scope: Scope;
  teamScope?: TeamScope;
}

interface TokenEntry extends Principal {
  digest: Buffer;
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** Thrown when `SURECRON_API_TOKENS` cannot be read. */
export class TokenConfigError extends Error {}

/**
 * The tokens the API accepts: `SURECRON_API_TOKEN` (full rights, actor `admin`) and the named tokens of
 * `SURECRON_API_TOKENS` (`name:token:scope[:tag;…][,…]`, scope `read` or `write`, optional `key=value` tags that
 * limit the token to the tasks matching them, see {@link TeamScope}).
 * @throws {TokenConfigError} on a malformed entry.
 */
export function parseTokens(apiToken: string, namedTokens = ''): TokenEntry[] {
  registerSecrets(apiToken);
  const entries: TokenEntry[] = [{ name: 'admin', scope: 'write', digest: digest(apiToken) }];
  for (const raw of namedTokens.split(',')) {
    if (!raw.trim()) continue;
    const [name, token, scope, ...rest] = raw.trim().split(':');
    const tags = rest.join(':');
    const malformed = (why: string) => new TokenConfigError(`SURECRON_API_TOKENS: ${why} (entry ${entries.length})`);
    if (!name || !token || (scope !== 'read' && scope !== 'write'))
      throw malformed('entries must be name:token:read|write[:key=value;…]');
    if (rest.length && !tags) throw malformed('the team scope after the third colon is empty');
    registerSecrets(token);
    let teamScope: TeamScope | undefined;
    try {
      teamScope = tags ? parseTeamScope(tags.split(';')) : undefined;
    } catch (error) {
      if (error instanceof TeamScopeError) throw malformed(error.message);
      throw error;
    }
    entries.push({ name, scope, digest: digest(token), ...(teamScope ? { teamScope } : {}) });
  }
  return entries;
}

/**
 * Finds the principal a bearer token belongs to. Compares digests in constant time against every entry, so
 * neither the match position nor a token's length leaks through timing.
 */
export function authenticate(entries: readonly TokenEntry[], authorization: string | undefined): Principal | undefined {
  const token = bearerToken(authorization);
  const presented = digest(token ?? '');
  let found: Principal | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(entry.digest, presented) && token) found ??= principalOf(entry);
  }
  return found;
}

const principalOf = ({ name, scope, teamScope }: TokenEntry): Principal => ({
  name,
  scope,
  ...(teamScope ? { teamScope } : {}),
});

/** The token of an `Authorization: Bearer <token>` header, or undefined. */
export const bearerToken = (authorization: string | undefined): string | undefined =>
  /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];

/** The audit actor of a request: its principal's name. */
export const actorOf = (request: { principal?: { name: string } }): string => request.principal?.name ?? 'unknown';

/** True when `principal` may do what `required` needs (`write` includes `read`). */
export function allows(principal: Principal, required: Scope): boolean {
  return required === 'read' || principal.scope === 'write';
}
