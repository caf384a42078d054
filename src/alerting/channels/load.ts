import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { type z } from 'zod';
import { type Severity } from '../../contract/alert.js';
import { AlertConfigError } from './errors.js';
import {
  type AlertsConfig,
  type Channel,
  type WebhookChannel,
  alertsFileSchema,
  webhookChannelSchema,
} from './config.js';

/** Name of the channel configured by `SURECRON_ALERT_WEBHOOK_URL`. */
export const defaultWebhookName = 'default-webhook';

const blank = (value: string | undefined): string | undefined => (value?.trim() ? value.trim() : undefined);

/** `['channels', 1, 'url']` → `channels[1].url`. */
function fieldPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((acc, key) => {
    if (typeof key === 'number') return `${acc}[${key}]`;
    return acc ? `${acc}.${String(key)}` : String(key);
  }, '');
}

/** Zod issues → one AlertConfigError naming the first offending field (and listing the rest). */
function configError(source: string, input: unknown, error: z.ZodError): AlertConfigError {
  const problems = error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [undefined];
    return keys.map((key) => {
      const path = key === undefined ? issue.path : [...issue.path, key];
      const message = key === undefined ? issue.message : 'unknown field';
      const name = channelName(input, path);
      return { field: fieldPath(path) || '(root)', text: `${message}${name ? ` (channel "${name}")` : ''}` };
    });
  });
  const flat = problems.flat();
  const list = flat.map((p) => `${p.field}: ${p.text}`).join('; ');
  return new AlertConfigError(`invalid ${source}: ${list}`, flat[0]?.field ?? '(root)');
}

function channelName(input: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'channels' || typeof path[1] !== 'number' || path.length < 3) return undefined;
  const channels = (input as { channels?: unknown } | null)?.channels;
  const channel: unknown = Array.isArray(channels) ? channels[path[1]] : undefined;
  const name = (channel as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

/**
 * The generic webhook configured by `SURECRON_ALERT_WEBHOOK_URL` (+ optional `SURECRON_ALERT_WEBHOOK_SECRET`),
 * named `default-webhook` and accepting every severity; undefined when the URL is unset or blank.
 * @throws {AlertConfigError} naming the variable when the URL is not http(s).
 */
export function channelFromEnv(env: NodeJS.ProcessEnv = process.env): WebhookChannel | undefined {
  const url = blank(env.SURECRON_ALERT_WEBHOOK_URL);
  if (url === undefined) return undefined;
  const secret = blank(env.SURECRON_ALERT_WEBHOOK_SECRET);
  const result = webhookChannelSchema.safeParse({
    type: 'webhook',
    name: defaultWebhookName,
    url,
    ...(secret && { secret }),
  });
  if (result.success) return result.data;
  const field =
    result.error.issues[0]?.path[0] === 'secret' ? 'SURECRON_ALERT_WEBHOOK_SECRET' : 'SURECRON_ALERT_WEBHOOK_URL';
  throw new AlertConfigError(`invalid ${field}: ${result.error.issues[0]?.message ?? 'invalid value'}`, field);
}

/** Validates an already-parsed alerts document (`{ channels, routes? }`). */
export function parseAlertsConfig(input: unknown, source = 'alerts config'): AlertsConfig {
  const result = alertsFileSchema.safeParse(input);
  if (!result.success) throw configError(source, input, result.error);
  return result.data;
}

/**
 * Loads alert channels from a YAML or JSON file (default: `SURECRON_ALERTS_FILE`) and adds the
 * `SURECRON_ALERT_WEBHOOK_URL` channel, which receives every alert whatever the routes say.
 * With neither configured, returns `{ channels: [] }`.
 * @throws {AlertConfigError} naming the offending field, e.g. `channels[1].url` or `routes.P0[0]`.
 */
export function loadChannels(file?: string, env: NodeJS.ProcessEnv = process.env): AlertsConfig {
  const path = blank(file) ?? blank(env.SURECRON_ALERTS_FILE);
  const config: AlertsConfig = path === undefined ? { channels: [] } : parseAlertsConfig(readDocument(path), path);
  const fromEnv = channelFromEnv(env);
  if (!fromEnv) return config;
  if (config.channels.some((c) => c.name === defaultWebhookName)) {
    throw new AlertConfigError(
      `channel name "${defaultWebhookName}" is reserved for SURECRON_ALERT_WEBHOOK_URL; rename it in ${path}`,
      'SURECRON_ALERT_WEBHOOK_URL',
    );
  }
  const routes = config.routes && {
    P0: config.routes.P0 && [...config.routes.P0, defaultWebhookName],
    P1: config.routes.P1 && [...config.routes.P1, defaultWebhookName],
    P2: config.routes.P2 && [...config.routes.P2, defaultWebhookName],
  };
  return { channels: [...config.channels, fromEnv], ...(routes && { routes }) };
}

function readDocument(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new AlertConfigError(`cannot read alerts file ${path}: ${(error as Error).message}`, 'SURECRON_ALERTS_FILE');
  }
  try {
    // YAML 1.2 is a superset of JSON, so one parser serves both.
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new AlertConfigError(`alerts file ${path} is not valid YAML/JSON: ${(error as Error).message}`, '(root)');
  }
}

/**
 * The channels an alert of `severity` goes to: those listed in `routes[severity]` (all channels when that
 * route is absent), minus any whose `severities` exclude it.
 */
export function channelsFor(config: AlertsConfig, severity: Severity): Channel[] {
  const route = config.routes?.[severity];
  const candidates = route ? config.channels.filter((c) => route.includes(c.name)) : config.channels;
  return candidates.filter((c) => !c.severities || c.severities.includes(severity));
}
