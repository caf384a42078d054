import { z } from 'zod';

/** Query and body fields shared by several routes. */
export const pageSize = z.coerce.number().int().min(1).max(1000).default(100);
export const pageToken = z
  .string()
  .regex(/^[A-Za-z0-9_-]+$/, 'invalid page token')
  .optional();
export const isoTime = z.iso.datetime({ offset: true }).transform((value) => new Date(value));
