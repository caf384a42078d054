/**
 * `npm run build:bundle [-- <out>]`: bundles surecron's workflow code once for production, so the worker
 * starts from `SURECRON_WORKFLOW_BUNDLE` instead of bundling from source. Writes `dist/workflow-bundle.js`
 * unless an output path is given.
 */
import { bundleWorkflowCode } from '@temporalio/worker';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { workflowsPath } from '../src/worker.js';

const root = fileURLToPath(new URL('..', import.meta.url));

async function main(): Promise<void> {
  const outPath = resolve(process.argv[2] ?? resolve(root, 'dist/workflow-bundle.js'));
  const { code } = await bundleWorkflowCode({ workflowsPath });
  mkdirSync(dirname(outPath), { recursive: true });
  writeFileSync(outPath, code);
  const size = Buffer.byteLength(code);
  process.stdout.write(`workflow bundle: ${outPath} (${(size / 1024).toFixed(1)} KiB, ${size} bytes)\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`build:bundle: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
