import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { floorToDay, floorToHour, HOUR_MS, isoHour, isoInstant } from '../src/amplitude/time.ts';
import type { ConnectionConfig } from '../src/config.ts';
import { eventHourPartition } from '../src/destination/layout.ts';
import { runSync, SyncFailedError } from '../src/sync-runner.ts';
import type { SyncResult, Tuning } from '../src/workflows/types.ts';
import {
  FAST_TUNING,
  type Simulator,
  settingsFor,
  simulatorConfig,
  startSimulatorOnRealClock,
  temporaryDirectory,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { assertEventsMatch, partitionFiles } from './helpers/output.ts';
import { exportsIn } from './helpers/requests.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;
const EVENTS_PER_HOUR = 40;
const NOMINAL_EVENT_BYTES = 1300;

describe('export windows that Amplitude cannot serve whole, and attempts that die mid-window', () => {
  let env: TestWorkflowEnvironment;
  // Two whole UTC days that are past the 3-hour availability lag at whatever hour the suite runs.
  const dataStart = floorToDay(Date.now() - 4 * HOUR_MS) - 2 * DAY;

  before(async () => {
    env = await startDevServer();
  });
  after(async () => {
    await env?.teardown();
  });

  async function withSimulator<T>(
    options: { exportSizeLimitBytes?: number },
    fn: (sim: Simulator) => Promise<T>,
  ) {
    const sim = await startSimulatorOnRealClock({
      dataStart,
      eventsPerHour: EVENTS_PER_HOUR,
      nominalEventBytes: NOMINAL_EVENT_BYTES,
      ...options,
    });
    try {
      return await fn(sim);
    } finally {
      await sim.close();
    }
  }

  async function sync(
    sim: Simulator,
    config: ConnectionConfig,
    tuning: Partial<Tuning> = FAST_TUNING,
    http: { bodyTimeoutMs?: number } = {},
  ): Promise<SyncResult> {
    const taskQueue = uniqueTaskQueue('resilience');
    const worker = await workerFor(env, sim, config, taskQueue, http);
    return worker.runUntil(
      runSync({
        client: env.client,
        workflowId: `${taskQueue}-connection`,
        taskQueue,
        settings: settingsFor(config, tuning),
      }),
    );
  }

  it('a 400 on a 24-hour window is served by smaller windows, with complete output', async () => {
    // Room for 7 hours per request: 24-hour windows are refused, 12 and 6 hours fit after splitting.
    const limit = 7 * EVENTS_PER_HOUR * NOMINAL_EVENT_BYTES;
    await withSimulator({ exportSizeLimitBytes: limit }, async (sim) => {
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
      const result = await sync(sim, config);
      const mark = Date.parse(result.state.streams.events!.completeBefore);
      await assertEventsMatch(out, sim, dataStart, mark);

      const requests = exportsIn(sim.requests);
      assert.ok(
        requests.some((r) => r.status === 400 && r.end - r.start === 23 * HOUR_MS),
        'the whole day was refused',
      );
      const served = requests.filter((r) => r.status === 200).sort((a, b) => a.start - b.start);
      for (const r of served) assert.ok(r.end - r.start < 7 * HOUR_MS, 'only windows that fit were served');
      for (let i = 1; i < served.length; i++) {
        assert.equal(
          served[i]!.start,
          served[i - 1]!.end + HOUR_MS,
          'served windows tile the range: no gap, no overlap',
        );
      }
      assert.equal(served[0]!.start, dataStart);
      assert.equal(served.at(-1)!.end, mark - HOUR_MS);
      assert.ok(result.streams.events!.splits >= 4, `windows were split (${result.streams.events!.splits})`);
    });
  });

  it('a single hour that keeps failing ends the stream with a non-retryable failure naming the hour', async () => {
    await withSimulator({}, async (sim) => {
      const badHour = dataStart + DAY + 5 * HOUR_MS;
      sim.faults.add({
        endpoint: 'export',
        kind: 'too_large',
        when: { hours: { start: badHour, end: badHour } },
        times: 1000,
      });
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
      const error = await sync(sim, config).then(
        () => assert.fail('the sync should fail'),
        (error: unknown) => error,
      );
      assert.ok(error instanceof SyncFailedError);
      assert.match(error.message, new RegExp(`single hour ${isoHour(badHour)}`));
      assert.match(error.message, /Amazon S3 or Google Cloud Storage export/);
      const alone = exportsIn(sim.requests).filter((r) => r.start === badHour && r.end === badHour);
      assert.equal(alone.length, 1, 'the one-hour window is asked once: the failure is not retried');
      assert.equal(
        error.partial?.state.streams.events?.completeBefore,
        new Date(badHour).toISOString().replace('.000', ''),
      );
      // Windows after the bad hour may have finished before it failed: complete, but beyond the watermark.
      await assertEventsMatch(out, sim, dataStart, badHour, { laterHoursMayExist: true });
      assert.ok(
        !(await partitionFiles(out, 'events')).includes(eventHourPartition(badHour)),
        'the bad hour has no file',
      );
    });
  });

  it('transient answers (429, 5xx, a non-zip 200, a cut-off body) are retried, never taken as "no data"', async () => {
    await withSimulator({}, async (sim) => {
      for (const kind of ['rate_limit', 'server_error', 'non_zip', 'truncated', 'corrupt_member'] as const) {
        sim.faults.add({ endpoint: 'export', kind, ...(kind === 'truncated' ? { afterBytes: 5000 } : {}) });
      }
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
      const result = await sync(sim, config, { ...FAST_TUNING, maximumAttempts: 8, exportConcurrency: 1 });
      assert.deepEqual(sim.faults.pending(), [], 'every fault was met');
      assert.equal(result.streams.events?.status, 'complete');
      await assertEventsMatch(out, sim, dataStart, Date.parse(result.state.streams.events!.completeBefore));
    });
  });

  it('a 404 is asked once more after a short wait; if it persists, the watermark passes and its hours go on the re-check list', async () => {
    await withSimulator({}, async (sim) => {
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
      // The last window of the sync: the UTC day of the newest hour old enough (3 h lag).
      const lastWindow = floorToDay(floorToHour(Date.now() - 3 * HOUR_MS) - HOUR_MS);
      const lastDay = { start: lastWindow, end: lastWindow + 23 * HOUR_MS };
      // Once: the second ask finds the data.
      sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: lastDay } });
      const first = await sync(sim, config);
      assert.equal(first.streams.events?.status, 'complete');
      assert.deepEqual(first.state.streams.events?.recheck, undefined);
      await assertEventsMatch(out, sim, dataStart, Date.parse(first.state.streams.events!.completeBefore));

      // Every time: the watermark passes the window all the same, and its hours are on the re-check list.
      const again = simulatorConfig(dataStart, {
        destination: { path: await temporaryDirectory() },
        streams: ['events'],
      });
      sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: lastDay }, times: 1000 });
      const second = await sync(sim, again);
      const mark = Date.parse(second.state.streams.events!.completeBefore);
      assert.ok(mark > lastWindow, 'the watermark is not held back by the 404');
      assert.deepEqual(
        second.state.streams.events?.recheck?.map(({ start, end }) => [start, end]),
        [[isoInstant(lastWindow), isoInstant(Math.min(lastWindow + 24 * HOUR_MS, mark))]],
      );
      assert.match(second.streams.events!.notes.join('\n'), /answered 404 twice; put on the re-check list/);
      const asked = exportsIn(sim.requests).filter((r) => r.start === lastWindow && r.fault === 'not_found');
      assert.equal(asked.length, 1 + 2, 'once in the first sync, then twice in the second: no retry rounds');
      sim.faults.clear();
    });
  });

  it('an attempt that dies mid-window is retried for the remaining hours only', async () => {
    await withSimulator({}, async (sim) => {
      const windowStart = dataStart + DAY;
      // The first download delivers five whole hours, then goes silent, like a worker that died.
      sim.faults.add({
        endpoint: 'export',
        kind: 'stall',
        afterHours: 5,
        when: { hours: { start: windowStart, end: windowStart } },
      });
      const out = await temporaryDirectory();
      const config = simulatorConfig(windowStart, { destination: { path: out }, streams: ['events'] });
      const result = await sync(
        sim,
        config,
        { ...FAST_TUNING, exportConcurrency: 1, exportHeartbeatTimeoutMs: 3000 },
        { bodyTimeoutMs: 60_000 },
      );

      const day = exportsIn(sim.requests).filter((r) => r.end === windowStart + 23 * HOUR_MS);
      assert.equal(day.length, 2, 'one stalled download of the day, one retry');
      assert.equal(day[0]!.start, windowStart);
      assert.equal(day[0]!.fault, 'stall');
      // Hours 00-03 were committed (a later hour's member had begun); hour 04 arrived whole but could
      // still have had more partitions, so the retry asks from 04.
      assert.equal(isoHour(day[1]!.start), isoHour(windowStart + 4 * HOUR_MS));
      const mark = Date.parse(result.state.streams.events!.completeBefore);
      await assertEventsMatch(out, sim, windowStart, mark);
    });
  });
});
