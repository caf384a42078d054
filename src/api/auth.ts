import { createHash, timingSafeEqual } from 'node:crypto';
import { registerSecrets } from '../logger.js';

export type Scope = 'read' | 'write';

/** A caller the API knows: a name (the audit actor) and what it may do. */
export interface Principal {
  name: string;
  scope: Scope;
}

interface TokenEntry extends Principal {
  digest: Buffer;
}

const digest = (token: string): Buffer => createHash('sha256').update(token).digest();

/** Thrown when `SURECRON_API_TOKENS` cannot be read. */
export class TokenConfigError extends Error {}

/**
 * The tokens the API accepts: `SURECRON_API_TOKEN` (full rights, actor `admin`) and the named tokens of
 * `SURECRON_API_TOKENS` (`name:token:scope[,…]`, scope `read` or `write`).
 * @throws {TokenConfigError} on a malformed entry.
 */
export function parseTokens(apiToken: string, namedTokens = ''): TokenEntry[] {
  registerSecrets(apiToken);
  const entries: TokenEntry[] = [{ name: 'admin', scope: 'write', digest: digest(apiToken) }];
  for (const raw of namedTokens.split(',')) {
    if (!raw.trim()) continue;
    const parts = raw.trim().split(':');
    const [name, token, scope] = parts;
    if (parts.length !== 3 || !name || !token || (scope !== 'read' && scope !== 'write')) {
      throw new TokenConfigError(
        `SURECRON_API_TOKENS: entries must be name:token:read|write (entry ${entries.length})`,
      );
    }
    registerSecrets(token);
    entries.push({ name, scope, digest: digest(token) });
  }
  return entries;
}

/**
 * Finds the principal a bearer token belongs to. Compares digests in constant time against every entry, so
 * neither the match position nor a token's length leaks through timing.
 */
export function authenticate(entries: readonly TokenEntry[], authorization: string | undefined): Principal | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  const presented = digest(match?.[1] ?? '');
  let found: Principal | undefined;
  for (const entry of entries) {
    if (timingSafeEqual(entry.digest, presented) && match) found ??= { name: entry.name, scope: entry.scope };
  }
  return found;
}

/** True when `principal` may do what `required` needs (`write` includes `read`). */
export function allows(principal: Principal, required: Scope): boolean {
  return required === 'read' || principal.scope === 'write';
}
