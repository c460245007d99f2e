// The Temporal Web UI as a person sees it, in headless Chromium (Debian's package): a sync started by
// connection name is listed under its connection, and its page says what it did.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { type Browser, chromium } from 'playwright-core';
import { floorToDay, HOUR_MS } from '../src/amplitude/time.ts';
import type { SyncResult } from '../src/workflows/types.ts';
import {
  type Simulator,
  simulatorConfig,
  startSimulatorOnRealClock,
  temporaryDirectory,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { freePort } from './helpers/ports.ts';
import { startDevServer } from './helpers/temporal.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the Temporal UI on a finished sync (dev server, headless Chromium)', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  let browser: Browser;
  let uiPort: number;
  let stopWorker: () => Promise<void>;
  const taskQueue = uniqueTaskQueue('ui');
  const workflowId = `ui-check-${Date.now()}`;

  before(async () => {
    assert.ok(
      existsSync(CHROMIUM),
      `no Chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`,
    );
    uiPort = await freePort();
    const dataStart = floorToDay(Date.now() - 4 * HOUR_MS) - 24 * HOUR_MS;
    const dir = await temporaryDirectory('ui-');
    [env, sim] = await Promise.all([
      startDevServer({ uiPort }),
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 5 }),
    ]);
    const config = simulatorConfig(dataStart, { destination: { path: dir }, request_time_range: 24 });
    const worker = await workerFor(env, sim, config, taskQueue, {}, [{ name: 'web-prod', config }]);
    const running = worker.run();
    stopWorker = async () => {
      worker.worker.shutdown();
      await running;
    };
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });
  after(async () => {
    await browser?.close();
    await stopWorker?.();
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  it('lists the sync under its connection, and its page says what it did', async () => {
    const result = (await env.client.workflow.execute('sync', {
      taskQueue,
      workflowId,
      args: [{ connection: 'web-prod', streams: ['annotations', 'events'] }],
    })) as SyncResult;
    assert.equal(result.streams.annotations?.status, 'complete');
    const page = await browser.newPage();
    try {
      // The list, filtered as a person filters it: by the connection's search attribute.
      const query = encodeURIComponent(`AmplitudeConnection = 'web-prod'`);
      await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows?query=${query}`);
      await page.getByText(workflowId, { exact: true }).first().waitFor({ timeout: 30_000 });
      await page.getByText(`${workflowId}/events`).first().waitFor({ timeout: 30_000 });

      // The sync's page: its timeline names each step (stream workflows, activities, the lock) by its summary.
      await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows/${workflowId}`);
      await page.getByText(`events of ${workflowId} from start_date`).first().waitFor({ timeout: 30_000 });
      await page.getByText('check that Amplitude answers and takes the keys').first().waitFor();
      await page
        .getByText(`held by the sync ${workflowId}: one sync of web-prod at a time`)
        .first()
        .waitFor();

      // A stream workflow's page: each export window is named by its hours.
      await page.goto(
        `http://127.0.0.1:${uiPort}/namespaces/default/workflows/${encodeURIComponent(`${workflowId}/events`)}`,
      );
      await page
        .getByText(/exportWindow • events \S+ \(\d+ h\)/)
        .first()
        .waitFor({ timeout: 30_000 });
    } finally {
      await page.close();
    }
  });
});
