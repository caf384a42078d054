import type { Client } from '@temporalio/client';
import { connectClient } from './client.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger } from './logger.js';
import { applyTasks, type ApplyResult } from './tasks/apply.js';
import { codeTasks } from './tasks/catalog.js';
import { taskRules } from './tasks/rules.js';
import { TaskService } from './tasks/service.js';
import { TaskStore } from './tasks/store.js';
import { TaskValidationError, validateTask } from './tasks/validate.js';
import { isMain } from './util/is-main.js';

/**
 * Reconciles the tasks declared in code (`src/tasks/catalog.ts`) into this deployment's schedules: created,
 * updated, and deleted when no longer declared. Each change is an audited `taskChange` workflow, so a worker must
 * poll the task queue.
 */
export function applyCodeTasks(
  client: Client,
  config: Pick<Config, 'SURECRON_TASK_QUEUE' | 'SURECRON_HTTP_ALLOWLIST'>,
): Promise<ApplyResult> {
  const rules = taskRules(config.SURECRON_HTTP_ALLOWLIST);
  const specs = codeTasks.map((task) => validateTask(task, rules));
  const service = new TaskService(client, new TaskStore(client, config.SURECRON_TASK_QUEUE));
  return applyTasks(service.writer('code'), specs, { prune: true });
}

/** `npm run apply`: applies the tasks in code to `TEMPORAL_ADDRESS` once and prints what changed. */
async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({ level: config.SURECRON_LOG_LEVEL, format: config.SURECRON_LOG_FORMAT });
  const address = config.TEMPORAL_ADDRESS ?? `127.0.0.1:${config.TEMPORAL_PORT}`;
  const client = await connectClient({ address, namespace: config.TEMPORAL_NAMESPACE });
  try {
    logger.info(await applyCodeTasks(client, config), 'tasks in code applied');
  } finally {
    await client.connection.close();
  }
}

if (isMain(import.meta.url)) {
  main().catch((error: unknown) => {
    const known = error instanceof ConfigError || error instanceof TaskValidationError;
    process.stderr.write(`surecron apply: ${known ? error.message : ((error as Error).stack ?? String(error))}\n`);
    process.exit(1);
  });
}
