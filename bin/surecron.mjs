#!/usr/bin/env node
// The `surecron` command: runs the TypeScript CLI through tsx, no build step.
import process from 'node:process';
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../src/cli/main.ts');
process.exitCode = await run(process.argv);
