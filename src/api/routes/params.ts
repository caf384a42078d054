import { z } from 'zod';

/** Query and body fields shared by several routes. */
export const pageSize = z.coerce.number().int().min(1).max(1000).default(100);
export const pageToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'invalid page token')
  .optional();
/** A `key=value` tag filter, as the task list and the silences take it. */
export const tagText = z.string().regex(/^[^=]+=.*$/, 'must be key=value');
/** {@link tagText} split at its first `=`. */
export const tagParam = tagText.transform((tag) => ({
  key: tag.slice(0, tag.indexOf('=')),
  value: tag.slice(tag.indexOf('=') + 1),
}));
export const isoTime = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
