import type { TaskSpec } from './spec.js';

/** A spec as it may be shown or recorded: header values marked secret are replaced by `[secret]`. */
export function redactSpec(spec: TaskSpec): TaskSpec {
  const { handler } = spec;
  if (handler.type !== 'http' || !handler.secretHeaders?.length || !handler.headers) return spec;
  const secret = new Set(handler.secretHeaders.map((h) => h.toLowerCase()));
  const headers = Object.fromEntries(
    Object.entries(handler.headers).map(([name, value]) => [name, secret.has(name.toLowerCase()) ? '[secret]' : value]),
  );
  return { ...spec, handler: { ...handler, headers } };
}
