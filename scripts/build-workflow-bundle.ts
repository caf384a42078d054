/**
 * `npm run build:bundle [-- <out>]`: bundles surecron's workflow code once for production, so the worker
 * starts from `SURECRON_WORKFLOW_BUNDLE` instead of bundling from source. Writes `dist/workflow-bundle.js`
 * unless an output path is given.
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeWorkflowBundle } from '../src/boot/worker.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const outPath = resolve(process.argv[2] ?? resolve(root, 'dist/workflow-bundle.js'));
  const size = await writeWorkflowBundle(outPath);
  process.stdout.write(`workflow bundle: ${outPath} (${(size / 1024).toFixed(1)} KiB, ${size} bytes)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`build:bundle: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
