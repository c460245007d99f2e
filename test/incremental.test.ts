import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { floorToHour, HOUR_MS, isoInstant } from '../src/amplitude/time.ts';
import type { ConnectionConfig } from '../src/config.ts';
import { runSync } from '../src/sync-runner.ts';
import type { SyncResult, Tuning } from '../src/workflows/types.ts';
import {
  FAST_TUNING,
  type Simulator,
  settingsFor,
  simulatorConfig,
  startSimulator,
  temporaryDirectory,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { assertEventsMatch } from './helpers/output.ts';
import { startTimeSkippingServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;

describe('incremental syncs as time passes (time-skipping server)', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  let dataStart: number;
  // A plain client: the test environment's own client lets the server skip time while it waits for a
  // result (it jumped ten years past a finished sync); here time moves only when the test says so.
  let client: Client;

  /** Moves the workflow clock and the simulator's clock forward together. */
  async function advance(ms: number) {
    await env.sleep(ms);
    sim.setNow((await env.currentTimeMs()) + HOUR_MS / 2);
  }

  /**
   * Moves both clocks to five minutes past the next hour, so that a test which reasons about hour
   * boundaries does not depend on the minute at which it happens to run.
   */
  async function advanceToStartOfNextHour() {
    const now = await env.currentTimeMs();
    await advance(floorToHour(now) + HOUR_MS + 5 * 60_000 - now);
  }

  before(async () => {
    env = await startTimeSkippingServer();
    client = new Client({ connection: env.connection });
    const now = await env.currentTimeMs();
    dataStart = floorToHour(now) - 2 * DAY;
    sim = await startSimulator({ dataStart, now: now + HOUR_MS / 2, eventsPerHour: 40 });
  });
  after(async () => {
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  async function sync(
    config: ConnectionConfig,
    workflowId: string,
    tuning: Partial<Tuning> = FAST_TUNING,
  ): Promise<SyncResult> {
    const taskQueue = uniqueTaskQueue('incremental');
    const worker = await workerFor(env, sim, config, taskQueue);
    return worker.runUntil(runSync({ client, workflowId, taskQueue, settings: settingsFor(config, tuning) }));
  }

  it('a later sync fetches only the new windows plus the lookback, and the union has no duplicate', async () => {
    await advanceToStartOfNextHour();
    const out = await temporaryDirectory();
    const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
    const workflowId = uniqueTaskQueue('connection');
    const first = await sync(config, workflowId);
    const firstMark = Date.parse(first.state.streams.events!.completeBefore);
    await assertEventsMatch(out, sim, dataStart, firstMark);

    await advance(10 * HOUR_MS);
    const before = sim.requests.length;
    const second = await sync(config, workflowId);
    const secondMark = Date.parse(second.state.streams.events!.completeBefore);
    assert.equal(secondMark - firstMark, 10 * HOUR_MS, 'the watermark moved with the clock');

    const exports = sim.requests.slice(before).filter((r) => r.path === '/api/2/export');
    assert.ok(exports.length > 0);
    const lookback = config.export_lookback_hours * HOUR_MS;
    assert.equal(
      Math.min(...exports.map((r) => r.exportHours!.start)),
      firstMark - lookback,
      'reads from the lookback',
    );
    assert.equal(
      Math.max(...exports.map((r) => r.exportHours!.end)),
      secondMark - HOUR_MS,
      'up to the new watermark',
    );
    const hoursRead = exports.reduce(
      (sum, r) => sum + (r.exportHours!.end - r.exportHours!.start) / HOUR_MS + 1,
      0,
    );
    assert.equal(hoursRead, 10 + config.export_lookback_hours, 'each new or lookback hour is read once');
    await assertEventsMatch(out, sim, dataStart, secondMark);
  });

  it('without a lookback, syncs inside the same hour leave the watermark where it is', async () => {
    await advanceToStartOfNextHour();
    const out = await temporaryDirectory();
    const config = simulatorConfig(dataStart, {
      destination: { path: out },
      streams: ['events', 'active_users'],
      export_lookback_hours: 0,
    });
    const workflowId = uniqueTaskQueue('connection');
    const first = await sync(config, workflowId);
    const mark = first.state.streams.events!.completeBefore;
    await advance(20 * 60_000);
    const second = await sync(config, workflowId);
    assert.equal(second.state.streams.events!.completeBefore, mark, 'no new hour is old enough yet');
    await advance(HOUR_MS);
    const third = await sync(config, workflowId);
    assert.equal(Date.parse(third.state.streams.events!.completeBefore) - Date.parse(mark), HOUR_MS);
    await assertEventsMatch(out, sim, dataStart, Date.parse(third.state.streams.events!.completeBefore));
  });

  it('a sync of some streams keeps the state of the others', async () => {
    const out = await temporaryDirectory();
    const all = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events', 'cohorts'] });
    const workflowId = uniqueTaskQueue('connection');
    const first = await sync(all, workflowId);
    const onlyCohorts = simulatorConfig(dataStart, { destination: { path: out }, streams: ['cohorts'] });
    const second = await sync(onlyCohorts, workflowId);
    assert.deepEqual(second.state.streams.events, first.state.streams.events);
  });

  it('continue-as-new keeps the cursor and the output exact', async () => {
    const out = await temporaryDirectory();
    const config = simulatorConfig(dataStart, {
      destination: { path: out },
      streams: ['events'],
      request_time_range: 1,
    });
    const workflowId = uniqueTaskQueue('connection');
    const result = await sync(config, workflowId, {
      ...FAST_TUNING,
      exportConcurrency: 1,
      continueAsNewAfterEvents: 40,
    });
    const mark = Date.parse(result.state.streams.events!.completeBefore);
    const expectedMark = floorToHour(
      (await env.currentTimeMs()) - config.export_availability_lag_hours * HOUR_MS,
    );
    assert.ok(
      Math.abs(mark - expectedMark) <= HOUR_MS,
      `${isoInstant(mark)} near ${isoInstant(expectedMark)}`,
    );

    const child = client.workflow.getHandle(`${workflowId}/events`);
    const history = await child.fetchHistory();
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    assert.ok(started?.continuedExecutionRunId, 'the events workflow continued as new at least once');
    assert.ok(result.streams.events!.slices >= 40, 'slices from every run are counted');
    await assertEventsMatch(out, sim, dataStart, mark);
  });

  it('a genuinely empty hour stays on the re-check list for export_recheck_days, asked by every sync, then leaves it', async () => {
    await advanceToStartOfNextHour();
    const now = await env.currentTimeMs();
    const quietHour = floorToHour(now) - 10 * HOUR_MS;
    const quiet = await startSimulator({
      dataStart,
      now: now + HOUR_MS / 2,
      eventsPerHour: (hour) => (hour === quietHour ? 0 : 40),
    });
    try {
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, {
        destination: { path: out },
        streams: ['events'],
        request_time_range: 1,
        export_recheck_days: 1,
      });
      const workflowId = uniqueTaskQueue('connection');
      const syncQuiet = async () => {
        quiet.setNow((await env.currentTimeMs()) + HOUR_MS / 2);
        const taskQueue = uniqueTaskQueue('incremental');
        const worker = await workerFor(env, quiet, config, taskQueue);
        return worker.runUntil(runSync({ client, workflowId, taskQueue, settings: settingsFor(config) }));
      };
      const asksForQuietHour = (from: number) =>
        quiet.requests
          .slice(from)
          .filter((r) => r.path === '/api/2/export' && r.exportHours?.start === quietHour).length;
      const quietInterval = `${isoInstant(quietHour)}/${isoInstant(quietHour + HOUR_MS)}`;

      const first = await syncQuiet();
      assert.deepEqual(
        first.state.streams.events?.recheck?.map(({ start }) => start),
        [isoInstant(quietHour)],
      );
      assert.equal(asksForQuietHour(0), 2);

      await env.sleep(12 * HOUR_MS);
      const before = quiet.requests.length;
      const second = await syncQuiet();
      assert.equal(asksForQuietHour(before), 1, 'a later sync asks again, once: it was asked twice before');
      assert.deepEqual(second.state.streams.events?.recheck, first.state.streams.events?.recheck);

      await env.sleep(13 * HOUR_MS);
      const last = quiet.requests.length;
      const third = await syncQuiet();
      assert.equal(asksForQuietHour(last), 0, 'expired: not asked any more');
      assert.equal(third.state.streams.events?.recheck, undefined);
      assert.deepEqual(third.streams.events?.recheck?.expired, [quietInterval]);
      const manifest = JSON.parse(await readFile(third.manifest, 'utf8'));
      assert.deepEqual(
        manifest.streams.events.summary.recheck.expired,
        [quietInterval],
        'the manifest says so',
      );
      await assertEventsMatch(out, quiet, dataStart, Date.parse(third.state.streams.events!.completeBefore));
    } finally {
      await quiet.close();
    }
  });
});
