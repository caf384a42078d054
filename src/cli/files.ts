import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { type TaskSpecInput, taskSpecSchema } from '../tasks/spec.js';
import { UsageError } from './errors.js';
import { formatIssues } from './validate.js';

async function readText(path: string): Promise<string> {
  try {
    if (path !== '-') return await readFile(path, 'utf8');
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${path}: ${code ?? (error as Error).message}`);
  }
}

/** Reads a JSON or YAML document (`-` for stdin); `.json` files are parsed strictly as JSON. */
export async function readDocument(path: string): Promise<unknown> {
  const text = await readText(path);
  try {
    return path.endsWith('.json') ? (JSON.parse(text) as unknown) : (parseYaml(text) as unknown);
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? 'parse error';
    throw new UsageError(`cannot parse ${path}: ${reason}`);
  }
}

/** Reads a document and validates it with `schema`, naming the file in any error. */
export async function readValidated<T extends z.ZodType>(path: string, schema: T): Promise<z.output<T>> {
  const result = schema.safeParse(await readDocument(path));
  if (!result.success) throw new UsageError(`invalid ${path}: ${formatIssues(result.error)}`);
  return result.data;
}

/**
 * Reads one task spec or an array of them and validates each with the API's own schema. Returns the specs as
 * written (defaults are left for the server to apply), so nothing the author did not say is sent.
 */
export async function readTaskSpecs(path: string): Promise<TaskSpecInput[]> {
  const document = await readDocument(path);
  const list = Array.isArray(document) ? (document as unknown[]) : [document];
  if (list.length === 0) throw new UsageError(`invalid ${path}: no tasks in file`);
  const problems = list.flatMap((spec, index) => {
    const result = taskSpecSchema.safeParse(spec);
    return result.success ? [] : [formatIssues(result.error, Array.isArray(document) ? `[${index}].` : '')];
  });
  if (problems.length) throw new UsageError(`invalid task file ${path}: ${problems.join('; ')}`);
  const specs = list as TaskSpecInput[];
  const seen = new Set<string>();
  for (const { id } of specs) {
    if (seen.has(id)) throw new UsageError(`invalid task file ${path}: task "${id}" appears twice`);
    seen.add(id);
  }
  return specs;
}
