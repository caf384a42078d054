/**
 * The two UIs `npm start` advertises, seen through a real browser: the Temporal Web UI (schedules, a schedule's
 * detail with its note, the task's runs, a circuit breaker's state) and the API's Swagger UI. Drives Debian's chromium (/usr/bin/chromium,
 * installed by scripts/install-debian-packages.sh) with playwright-core and saves full-page screenshots to test-results/.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { launchEntryPoint, npmStartEnv, root, stopProcess } from '../helpers/processes.js';
import { CIRCUIT_CALL_SIGNAL, circuitWorkflowId, type CircuitBreakerInput } from '../../src/contract/circuit.js';
import { workflowTypes } from '../../src/contract/workflow-types.js';
import { testClient, waitFor } from '../helpers/temporal.js';

const results = join(root, 'test-results');
const CHROMIUM = '/usr/bin/chromium';
const TASK = 'example.heartbeat';
const NOTE = 'Example: logs a heartbeat every 10 seconds';
const BREAKER = 'erp-web-ui';

/**
 * A full-page screenshot. The Temporal Web UI scrolls inside a 100vh layout, so `fullPage` alone stops at the
 * viewport: the viewport is grown to the tallest scrolling content first (capped), then restored.
 */
async function screenshot(page: Page, name: string): Promise<void> {
  const viewport = page.viewportSize() ?? { width: 1440, height: 900 };
  // A string, not a function: the project's tsconfig has no DOM lib.
  const content = await page.evaluate<number>(`(() => {
    let extra = 0;
    for (const element of document.querySelectorAll('*')) {
      const overflow = getComputedStyle(element).overflowY;
      if ((overflow === 'auto' || overflow === 'scroll') && element.clientHeight >= window.innerHeight / 2) {
        extra = Math.max(extra, element.scrollHeight - element.clientHeight);
      }
    }
    return window.innerHeight + extra;
  })()`);
  const height = Math.min(Math.max(content, viewport.height), 4_000);
  if (height > viewport.height) {
    await page.setViewportSize({ width: viewport.width, height });
    await page.waitForTimeout(300);
  }
  await page.screenshot({ path: join(results, name), fullPage: true });
  if (height > viewport.height) await page.setViewportSize(viewport);
}

/** Navigates and lets the SvelteKit app settle (its API calls finish) before anything is asserted. */
async function open(page: Page, url: string): Promise<void> {
  const response = await page.goto(url, { waitUntil: 'domcontentloaded' });
  assert.ok(response && response.status() < 400, `${url} answered ${response?.status()}`);
  await page.waitForLoadState('networkidle', { timeout: 10_000 }).catch(() => undefined);
}

describe('npm start: the Web UI and the API docs in a browser', () => {
  it('lists the example schedule with its note and runs in the Temporal Web UI, and serves Swagger UI', async (t) => {
    assert.ok(
      existsSync(CHROMIUM),
      `${CHROMIUM} is missing: run \`bash scripts/install-debian-packages.sh\` (as root; installs Debian's chromium package)`,
    );
    const cli = process.env.SURECRON_TEST_TEMPORAL_CLI;
    assert.ok(cli, 'npm test provides the Temporal CLI');
    mkdirSync(results, { recursive: true });
    const dataDir = mkdtempSync(join(tmpdir(), 'surecron-web-ui-'));
    const { apiPort, uiPort, temporalPort, env } = await npmStartEnv(cli, dataDir);
    const api = `http://127.0.0.1:${apiPort}`;
    const ui = `http://127.0.0.1:${uiPort}/namespaces/default`;

    const started = Date.now();
    const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1)} s`;
    const app = launchEntryPoint('src/main.ts', env);
    let browser: Browser | undefined;
    try {
      await waitFor(
        () => fetch(`${api}/readyz`).then((r) => (r.status === 200 ? true : undefined)),
        45_000,
        `/readyz (output: ${app.output().slice(-500)})`,
      );
      t.diagnostic(`surecron ready after ${elapsed()}`);

      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
      page.setDefaultTimeout(15_000);

      // Schedules list: the example task's schedule (schedule id = task id).
      await open(page, `${ui}/schedules`);
      await page.getByRole('link', { name: TASK, exact: true }).first().waitFor();
      await screenshot(page, 'web-ui-schedules.png');
      t.diagnostic(`schedules page after ${elapsed()}`);

      // Schedule detail: the note surecron writes onto the schedule.
      await open(page, `${ui}/schedules/${encodeURIComponent(TASK)}`);
      await page.getByText(TASK).first().waitFor();
      await page.getByText('Notes', { exact: true }).first().waitFor();
      await page.getByText(NOTE).first().waitFor();
      await screenshot(page, 'web-ui-schedule-detail.png');
      t.diagnostic(`schedule detail after ${elapsed()}`);

      // The task's runs, found by surecron's search attribute; the first one is due within 10 s of the apply.
      const workflows = `${ui}/workflows?query=${encodeURIComponent(`SurecronTaskId="${TASK}"`)}`;
      const run = page.getByText(new RegExp(`^\\s*${TASK.replace('.', '\\.')}-20`)).first();
      await open(page, workflows);
      await waitFor(
        async () => {
          if (await run.isVisible()) return true;
          await page.waitForTimeout(2_000);
          if (await run.isVisible()) return true;
          await open(page, workflows);
          return undefined;
        },
        25_000,
        `a ${TASK}-20… run listed in the Web UI`,
      );
      t.diagnostic(`first run listed: ${(await run.textContent())?.trim()} after ${elapsed()}`);
      await screenshot(page, 'web-ui-workflows.png');

      // A dependency's circuit breaker, opened by one failed call: its workflow names it and shows its state.
      const client = await testClient(`127.0.0.1:${temporalPort}`);
      try {
        const policy = { failures: 1, window: 1, openForMs: 600_000 };
        const input: CircuitBreakerInput = { key: BREAKER, policy };
        await client.workflow.signalWithStart(workflowTypes.circuitBreaker, {
          workflowId: circuitWorkflowId(BREAKER),
          taskQueue: 'surecron',
          args: [input],
          signal: CIRCUIT_CALL_SIGNAL,
          signalArgs: [{ workflowId: 'web-ui', taskId: 'web-ui', failed: true, error: 'HTTP 503', policy }],
          staticSummary: `surecron circuit breaker ${BREAKER}`,
        });
        // Its page: the summary, and on the User Metadata tab its state as current details (Markdown, which the
        // Web UI renders in a sandboxed frame).
        await open(page, `${ui}/workflows/${encodeURIComponent(circuitWorkflowId(BREAKER))}`);
        await page.getByText('User Metadata', { exact: true }).first().click();
        const [summary, current] = [0, 1].map((n) => page.frameLocator('iframe[title="output"]').nth(n));
        await summary?.getByText(`surecron circuit breaker ${BREAKER}`).waitFor();
        await current?.getByText(/since .*: calls wait until .*, then one trial call/).waitFor();
        assert.equal(await current?.locator('strong').first().textContent(), 'open');
        await screenshot(page, 'web-ui-circuit-breaker.png');
        t.diagnostic(`circuit breaker page after ${elapsed()}`);
      } finally {
        await client.workflow
          .getHandle(circuitWorkflowId(BREAKER))
          .terminate('test over')
          .catch(() => undefined);
        await client.connection.close();
      }

      // The API's Swagger UI.
      await open(page, `${api}/docs`);
      await page.getByText('surecron API').first().waitFor();
      await page.getByText('/v1/tasks', { exact: true }).first().waitFor();
      await screenshot(page, 'api-docs.png');
      t.diagnostic(`API docs after ${elapsed()}`);
    } finally {
      await browser?.close().catch(() => undefined);
      const code = await stopProcess(app);
      rmSync(dataDir, { recursive: true, force: true });
      assert.equal(code, 0, `graceful exit (output: ${app.output().slice(-800)})`);
    }
  });
});
