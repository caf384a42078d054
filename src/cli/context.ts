import type { Command } from 'commander';
import { ApiClient } from './http.js';
import { Output } from './output.js';

/** Options every command inherits from the program. */
export interface GlobalOptions {
  url: string;
  token?: string;
  json?: boolean;
}

/** What a command action works with: the API client and the output. */
export interface CommandContext {
  api: ApiClient;
  out: Output;
}

/** Builds the context from the program-level options seen by `command`. */
export function contextOf(command: Command): CommandContext {
  const { url, token, json } = command.optsWithGlobals<GlobalOptions>();
  return { api: new ApiClient(url, token), out: new Output(Boolean(json)) };
}
