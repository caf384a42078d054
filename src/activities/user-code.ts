import type { TaskSpecInput } from '../tasks/spec.js';
import type { HandlerRegistry } from './handler.js';

/** An activity of a user workflow: any async function. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- activities take whatever their workflow passes
export type UserActivity = (...args: any[]) => Promise<unknown>;

/**
 * What a deployment runs of its users' code: the tasks declared in code, the function handlers they name, the
 * activities of user workflows, and the names of those workflows (bundled from `workflowsPath`).
 */
export interface UserCode {
  tasks: readonly TaskSpecInput[];
  handlers: HandlerRegistry;
  activities: Readonly<Record<string, UserActivity>>;
  /** Names of the workflows a task may run as its handler. */
  workflowNames: readonly string[];
  /** Module exporting those workflows; the worker bundles it with surecron's own. */
  workflowsPath: string;
}
