import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWorkflowBundle } from '../boot/worker.js';

const surecronWorkflows = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
/** Where generated entry files go: inside the project, so that the bundler finds `@temporalio/workflow` from them. */
const entryDir = fileURLToPath(new URL('../../node_modules/.cache/surecron/', import.meta.url));

/**
 * Bundles surecron's workflows and those exported by `userWorkflowsPath` into `outPath`, the bundle a worker of a
 * deployment with that user code runs (`createSurecronWorker({ workflowBundlePath })`). Returns its size.
 */
export async function writeUserWorkflowBundle(outPath: string, userWorkflowsPath: string): Promise<number> {
  mkdirSync(entryDir, { recursive: true });
  const entry = join(entryDir, `workflows-${randomUUID()}.js`);
  const source = [surecronWorkflows, resolve(userWorkflowsPath)].map(
    (path) => `export * from ${JSON.stringify(path)};`,
  );
  writeFileSync(entry, `${source.join('\n')}\n`);
  try {
    return await writeWorkflowBundle(outPath, entry);
  } finally {
    rmSync(entry, { force: true });
  }
}

const bundles = new Map<string, Promise<string>>();

/** The path of a bundle of surecron's workflows and `userWorkflowsPath`'s, built once per process. */
export function userWorkflowBundle(userWorkflowsPath: string): Promise<string> {
  const key = resolve(userWorkflowsPath);
  let bundle = bundles.get(key);
  if (!bundle) {
    const dir = mkdtempSync(join(tmpdir(), 'surecron-bundle-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'workflows.js');
    bundle = writeUserWorkflowBundle(path, key).then(() => path);
    bundles.set(key, bundle);
  }
  return bundle;
}
