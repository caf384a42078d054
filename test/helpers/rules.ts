import { deploymentRules } from '../../src/boot/deployment.js';
import type { TaskRules } from '../../src/tasks/validate.js';
import type { HandlerRegistry } from '../../src/activities/handler.js';
import { testCode } from './temporal.js';

/** The rules of the test deployment (its handlers and workflows), with an http allow-list. */
export function testRules(httpAllowlist?: string, handlers: HandlerRegistry = {}): TaskRules {
  return deploymentRules(
    { SURECRON_HTTP_ALLOWLIST: httpAllowlist },
    { ...testCode, handlers: { ...testCode.handlers, ...handlers } },
  );
}

/** The names the test deployment's tasks may use in `{ type: 'function', name }`. */
export const functionHandlerNames: ReadonlySet<string> = new Set(Object.keys(testCode.handlers));
