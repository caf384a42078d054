import { writeFileSync } from 'node:fs';
import type { ProcessSpec } from './supervisor.js';

/** A frontend the load balancer forwards to. */
export interface Backend {
  name: string;
  address: string;
}

/**
 * HAProxy configuration for gRPC: HTTP/2 on both sides, each call (stream) balanced on its own across the
 * frontends, a frontend taken out after two failed checks a second apart and put back after two good ones.
 * Timeouts stay above Temporal's long polls (about 70 s), so an idle poll is never cut.
 */
export function haproxyConfig(listen: string, backends: readonly Backend[]): string {
  return [
    'global',
    '  maxconn 4000',
    // Never share the port with another listener (another cluster's HAProxy, a dev server): fail instead.
    '  noreuseport',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 5m',
    '  timeout server 5m',
    '  timeout client-fin 5s',
    '  retries 3',
    '  option redispatch',
    'frontend temporal',
    `  bind ${listen} proto h2`,
    '  default_backend frontends',
    'backend frontends',
    '  balance roundrobin',
    '  retry-on conn-failure empty-response response-timeout',
    ...backends.map(({ name, address }) => `  server ${name} ${address} proto h2 check inter 1s fall 2 rise 2`),
    '',
  ].join('\n');
}

/** The supervised HAProxy in front of the frontends, listening on `listen` (host:port). */
export function loadBalancerProcess(
  listen: string,
  backends: readonly Backend[],
  configFile: string,
  logFile: string,
): ProcessSpec {
  writeFileSync(configFile, haproxyConfig(listen, backends));
  return {
    role: 'lb',
    name: 'haproxy',
    address: listen,
    command: '/usr/sbin/haproxy',
    // -db: stay in the foreground, as a supervised process must.
    args: ['-db', '-f', configFile],
    logFile,
    stopTimeoutMs: 5_000,
  };
}
