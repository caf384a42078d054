import { buildApp } from '../../src/api/app.js';
import type { TaskService } from '../../src/tasks/service.js';
import { testRules } from './rules.js';
import { quietLogger } from './temporal.js';

export type TestApp = Awaited<ReturnType<typeof buildApp>>;

/** The API over `service` with one admin token, the test deployment's rules and a readiness that always says ready. */
export function testApp(service: TaskService, apiToken: string, rules = testRules()): Promise<TestApp> {
  return buildApp({
    service,
    rules,
    logger: quietLogger,
    apiToken,
    readiness: async () => Promise.resolve({ ready: true, checks: {} }),
  });
}
