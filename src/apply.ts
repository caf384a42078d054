import { applyCodeTasks, openDeployment, runMain } from './boot/deployment.js';
import { ConfigError } from './config.js';
import { TaskValidationError } from './tasks/errors.js';
import { temporalReadiness } from './temporal/readiness.js';
import { isMain } from './util/is-main.js';

class NotReadyError extends Error {}

/**
 * `npm run apply [-- --prune]`: applies the tasks declared in code (`src/user/tasks.ts`) to `TEMPORAL_ADDRESS`
 * once, through the audited change path (a worker must poll the task queue), and prints what changed. Without
 * `--prune`, tasks no longer declared are kept.
 */
async function main(): Promise<void> {
  const prune = process.argv.includes('--prune');
  const deployment = await openDeployment();
  try {
    // Changes are audited workflows that the deployment's workers carry out: without one, apply would wait forever.
    const readiness = await temporalReadiness(deployment.client, deployment.config.SURECRON_TASK_QUEUE)();
    if (!readiness.ready) {
      const checks = Object.entries(readiness.checks).map(([name, detail]) => `${name}: ${detail}`);
      throw new NotReadyError(`cannot apply (${checks.join('; ')}); start a worker first (npm run start:worker)`);
    }
    deployment.logger.info(await applyCodeTasks(deployment, { prune }), 'tasks in code applied');
  } finally {
    await deployment.client.connection.close();
  }
}

if (isMain(import.meta.url)) {
  runMain(
    'surecron apply',
    main,
    (error) => error instanceof ConfigError || error instanceof TaskValidationError || error instanceof NotReadyError,
  );
}
