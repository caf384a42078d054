#!/usr/bin/env node
/**
 * `node scripts/complete-lockfile.mjs`: run after `npm install` on a machine whose npm mirror lacks other
 * platforms' optional binaries (e.g. `@swc/core-darwin-arm64` answers 404 here). npm then leaves them out of
 * package-lock.json, and `npm ci` rejects the lock as out of sync. This adds an entry for every optional
 * dependency the lock names but does not hold, marked optional and tagged with the os/cpu its name carries, so
 * `npm ci` skips them on other platforms and fetches them where they belong.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import process from 'node:process';
import { URL } from 'node:url';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const osNames = ['darwin', 'linux', 'win32', 'freebsd', 'android', 'openbsd', 'sunos', 'aix', 'netbsd', 'openharmony'];
const cpus = ['arm64', 'x64', 'ia32', 'arm', 'ppc64', 's390x', 'riscv64', 'loong64', 'mips64el'];
let added = 0;
for (const meta of Object.values(packages)) {
  for (const [name, range] of Object.entries(meta.optionalDependencies ?? {})) {
    const key = `node_modules/${name}`;
    if (packages[key]) continue;
    const base = name.split('/').pop();
    const entry = { version: String(range).replace(/^[\^~=]/, ''), optional: true };
    if (!base.includes('wasm32')) {
      const os = osNames.find((o) => base.includes(`-${o}`) || base.startsWith(o));
      const cpu = cpus.find((c) => base.includes(`-${c}`));
      if (os) entry.os = [os];
      if (cpu) entry.cpu = [cpu];
    }
    packages[key] = entry;
    added += 1;
  }
}
lock.packages = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)),
);
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
process.stdout.write(`complete-lockfile: added ${added} optional platform entries\n`);
