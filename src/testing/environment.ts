import { IllegalStateError } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { Runtime } from '@temporalio/worker';
import { ensureSearchAttributes } from '../client.js';
import { resolveTemporalCli } from '../temporal/cli.js';
import { silentSdkLogger } from '../temporal/runtime-logger.js';

/**
 * Installs a Temporal Runtime that logs nothing, unless one is installed already (install your own first to
 * see the SDK's logs). Tests assert on behaviour, not on log noise.
 */
export function quietRuntime(): void {
  try {
    Runtime.install({
      logger: silentSdkLogger,
      shutdownSignals: [],
      telemetryOptions: { logging: { forward: {}, filter: { core: 'ERROR', other: 'ERROR' } } },
    });
  } catch (error) {
    if (!(error instanceof IllegalStateError)) throw error;
  }
}

/**
 * A Temporal test environment with surecron's search attributes registered: the server at `TEMPORAL_ADDRESS`
 * when it is set (`npm test` sets it), else a local dev server of its own, run from the Temporal CLI surecron
 * provisions (`npm run temporal:ensure`), since the SDK's own download needs the internet. Call `teardown()` when
 * done.
 * @throws {TemporalCliNotFoundError} without `TEMPORAL_ADDRESS` when no Temporal CLI can be found or built.
 */
export async function createTestEnvironment(
  options: { address?: string; namespace?: string } = {},
): Promise<TestWorkflowEnvironment> {
  quietRuntime();
  const address = options.address ?? process.env.TEMPORAL_ADDRESS;
  const namespace = options.namespace ?? process.env.TEMPORAL_NAMESPACE ?? 'default';
  let env: TestWorkflowEnvironment;
  if (address) {
    env = await TestWorkflowEnvironment.createFromExistingServer({ address, namespace });
  } else {
    const cli = await resolveTemporalCli({ allowSdkDownload: false });
    if (cli.kind !== 'path') throw new Error('a Temporal CLI binary is needed');
    env = await TestWorkflowEnvironment.createLocal({
      server: { executable: { type: 'existing-path', path: cli.path }, namespace },
    });
  }
  await ensureSearchAttributes(env.client);
  return env;
}
