import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLowPort } from '../util/ports.js';

/**
 * The server configuration template every Temporal server surecron runs renders, here and in docker-compose.yml:
 * one file, rendered by the server from the environment (`deploy/temporal/surecron.yaml`).
 */
export const serverConfigDir = fileURLToPath(new URL('../../deploy/temporal', import.meta.url));
export const SERVER_CONFIG_ENV = 'surecron';
export const dynamicConfigFile = join(serverConfigDir, 'dynamicconfig.yaml');
/**
 * A config "zone" of the template: `--zone sqlite` makes the server load `surecron_sqlite.yaml` after
 * `surecron.yaml`, which replaces the PostgreSQL stores with SQLite files and keeps everything else (bench:ceiling).
 */
export const SQLITE_ZONE = 'sqlite';

/** The four services one server process runs, with the env var prefix of its ports in the template. */
export const serverServices = ['FRONTEND', 'HISTORY', 'MATCHING', 'WORKER'] as const;
export type ServerService = (typeof serverServices)[number];

/** The server's command line on the template; `zone` adds an overlay such as {@link SQLITE_ZONE}. */
export function serverArgs(zone?: string): string[] {
  return [
    '--root',
    '/',
    '--config',
    serverConfigDir,
    '--env',
    SERVER_CONFIG_ENV,
    ...(zone ? ['--zone', zone] : []),
    '--allow-no-auth',
    'start',
  ];
}

/**
 * Free ports for one server process, as the template's env vars: every service's gRPC and membership port and the
 * frontend's HTTP port, all below 32768 (the membership table keeps ports in a smallint). `frontendPort` fixes the
 * frontend's gRPC port; `taken` collects every port handed out, so several nodes never share one.
 */
export async function serverPortsEnv(
  taken: Set<number>,
  frontendPort?: number,
): Promise<Record<string, string> & { FRONTEND_GRPC_PORT: string }> {
  const port = async (): Promise<string> => {
    const free = await freeLowPort(taken);
    taken.add(free);
    return String(free);
  };
  const env: Record<string, string> = { FRONTEND_HTTP_PORT: await port() };
  for (const service of serverServices) {
    env[`${service}_GRPC_PORT`] = service === 'FRONTEND' && frontendPort ? String(frontendPort) : await port();
    env[`${service}_MEMBERSHIP_PORT`] = await port();
  }
  return env as Record<string, string> & { FRONTEND_GRPC_PORT: string };
}
