import { applyCodeTasks, openDeployment, runMain, type Deployment } from './boot/deployment.js';
import { ConfigError } from './config.js';
import { applyTasks, dryRunWriter } from './tasks/apply.js';
import { TaskValidationError } from './tasks/errors.js';
import {
  simulate,
  specSimulationTask,
  startRates,
  storedSimulationTask,
  type SimulationResult,
} from './tasks/simulate.js';
import { validateTask } from './tasks/validate.js';
import { temporalReadiness } from './temporal/readiness.js';
import { isMain } from './util/is-main.js';

class NotReadyError extends Error {}
class UsageError extends Error {}

/** What `--dry-run` reports of a simulation: everything but the per-task list, which only the changed tasks keep. */
function simulationReport(result: SimulationResult, changed: ReadonlySet<string>) {
  return { ...result, tasks: result.tasks.filter((task) => changed.has(task.id)) };
}

/**
 * `apply --dry-run`: what an apply would change, written nowhere, and a simulation of the deployment's tasks as
 * they would be after it (the declared ones as declared, every other task of the deployment as stored, pruned ones
 * gone) over the next `--days` (default 365): DST events of the changed tasks, crowded seconds, suggestions.
 */
async function dryRun(deployment: Deployment, prune: boolean, days: number): Promise<void> {
  const { store } = deployment.service;
  const specs = deployment.code.tasks.map((task) => validateTask(task, deployment.rules));
  const plan = await applyTasks(dryRunWriter(store), specs, { prune });
  const skipped = new Set(plan.skipped.map((task) => task.id));
  const declared = specs.filter((spec) => !skipped.has(spec.id));
  const declaredIds = new Set(declared.map((spec) => spec.id));
  const deleted = new Set(plan.deleted);
  const others = (await store.listIds()).filter((id) => !declaredIds.has(id) && !deleted.has(id));
  const stored = await store.getMany(others);
  const fromMs = Date.now();
  const result = simulate([...declared.map(specSimulationTask), ...stored.map(storedSimulationTask)], {
    fromMs,
    toMs: fromMs + days * 86_400_000,
    rates: startRates(
      deployment.config.SURECRON_CLUSTER_START_RATE !== undefined
        ? { cluster: deployment.config.SURECRON_CLUSTER_START_RATE }
        : {},
    ),
  });
  const changed = new Set([...plan.created, ...plan.updated]);
  deployment.logger.info({ ...plan, simulation: simulationReport(result, changed) }, 'dry run: nothing applied');
}

/**
 * `npm run apply [-- --prune] [-- --dry-run [--days N]]`: applies the tasks declared in code (`src/user/tasks.ts`)
 * to `TEMPORAL_ADDRESS` once, through the audited change path (a worker must poll the task queue), and prints what
 * changed. Without `--prune`, tasks no longer declared are kept. With `--dry-run` nothing is written (no worker
 * needed): it prints what would change and a simulation of the result (see {@link dryRun}).
 */
async function main(): Promise<void> {
  const prune = process.argv.includes('--prune');
  const dry = process.argv.includes('--dry-run');
  const daysAt = process.argv.indexOf('--days');
  const days = daysAt >= 0 ? Number(process.argv[daysAt + 1]) : 365;
  if (!Number.isInteger(days) || days < 1 || days > 3653) throw new UsageError('--days: a whole number from 1 to 3653');
  const deployment = await openDeployment();
  try {
    if (dry) return await dryRun(deployment, prune, days);
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
    (error) =>
      error instanceof ConfigError ||
      error instanceof TaskValidationError ||
      error instanceof NotReadyError ||
      error instanceof UsageError,
  );
}
