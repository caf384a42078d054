import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The embedded mode's API token: `SURECRON_API_TOKEN` if set, else the one kept in the data dir, else a new one
 * written there (mode 0600). The API never runs without a token.
 */
export function loadOrCreateToken(
  dataDir: string,
  configured: string | undefined,
): { token: string; generated: boolean; path?: string } {
  if (configured) return { token: configured, generated: false };
  const path = join(dataDir, 'api-token');
  try {
    const token = readFileSync(path, 'utf8').trim();
    if (token.length >= 16) return { token, generated: false, path };
  } catch {
    // none yet
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return { token, generated: true, path };
}

/** Where the token came from, for the start-up banner: a new one is shown once, a kept one only by its path. */
export function tokenOrigin(token: { token: string; generated: boolean; path?: string }): string {
  if (token.generated) return `${token.token}   (new; kept in ${token.path})`;
  return token.path ? `in ${token.path}` : 'from SURECRON_API_TOKEN';
}
