import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProcessSpec } from './supervisor.js';

/** The supervised Temporal Web UI server, talking to the cluster through the load balancer. */
export function webUiProcess(options: {
  binary: string;
  temporalAddress: string;
  host: string;
  port: number;
  namespace: string;
  dir: string;
  logFile: string;
}): ProcessSpec {
  const configDir = join(options.dir, 'config');
  mkdirSync(configDir, { recursive: true });
  writeFileSync(
    join(configDir, 'surecron.yaml'),
    [
      `temporalGrpcAddress: ${options.temporalAddress}`,
      `host: ${options.host}`,
      `port: ${options.port}`,
      'enableUi: true',
      `defaultNamespace: ${options.namespace}`,
      'notifyOnNewVersion: false',
      'refreshInterval: 1m',
      '',
    ].join('\n'),
  );
  return {
    role: 'ui',
    name: 'web-ui',
    address: `http://${options.host}:${options.port}`,
    command: options.binary,
    args: ['--root', options.dir, '--config', 'config', '--env', 'surecron', 'start'],
    logFile: options.logFile,
    stopTimeoutMs: 5_000,
  };
}
