import { internalWorkflowTypes } from '../contract/workflow-types.js';
import { createHttpGuard } from '../security/http-guard.js';
import type { TaskRules } from './validate.js';

/** The handlers a deployment has: function handler names and the workflows its worker registers. */
export interface HandlerNames {
  functions: Iterable<string>;
  workflows: Iterable<string>;
}

/**
 * The rules of a deployment: the handlers it has and the http allow-list. surecron's own workflows are never
 * handlers.
 */
export function taskRules(names: HandlerNames, httpAllowlist?: string): TaskRules {
  return {
    functionNames: new Set(names.functions),
    workflowNames: new Set([...names.workflows].filter((name) => !internalWorkflowTypes.has(name))),
    http: createHttpGuard(httpAllowlist),
  };
}
