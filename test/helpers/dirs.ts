import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory `<prefix>-XXXXXX` under npm test's work dir (removed with it; the system temp dir outside npm test). */
export function workDir(prefix: string): string {
  return mkdtempSync(join(process.env.SURECRON_TEST_WORKDIR ?? tmpdir(), `${prefix}-`));
}
