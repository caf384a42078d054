import type { HandlerRegistry } from '../handler.js';
import { createExampleHandlers, type ExampleDeps } from './examples.js';

export type HandlerDeps = ExampleDeps;

/**
 * Every function handler tasks can name, by name. Register your own here; tests call this with fakes.
 */
export function createHandlers(deps: HandlerDeps = {}): HandlerRegistry {
  return {
    ...createExampleHandlers(deps),
  };
}

/** The names tasks may use in `{ type: 'function', name }`. */
export const functionHandlerNames: ReadonlySet<string> = new Set(Object.keys(createHandlers()));
