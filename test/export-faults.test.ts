import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { ReconcileResult } from '../src/activities/reconcile.ts';
import { floorToDay, HOUR_MS, isoDate, isoHour } from '../src/amplitude/time.ts';
import type { ConnectionConfig } from '../src/config.ts';
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
import { assertEventsMatch } from './helpers/output.ts';
import { exportsIn } from './helpers/requests.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;

describe('404s and 504s as Amplitude has been seen to answer them (dev server)', () => {
  let env: TestWorkflowEnvironment;
  // Whole UTC days, all past the 3-hour availability lag whatever the hour the suite runs at.
  const lastFullDay = floorToDay(Date.now() - 4 * HOUR_MS) - DAY;
  const dayStart = (ago: number) => lastFullDay - ago * DAY;
  const wholeDay = (ago: number) => ({ start: dayStart(ago), end: dayStart(ago) + 23 * HOUR_MS });

  before(async () => {
    env = await startDevServer();
  });
  after(async () => {
    await env?.teardown();
  });

  async function withSimulator<T>(
    options: { dataStart: number; eventsPerHour?: number | ((hour: number) => number) },
    fn: (sim: Simulator) => Promise<T>,
  ) {
    const sim = await startSimulatorOnRealClock({ eventsPerHour: 30, ...options });
    try {
      return await fn(sim);
    } finally {
      await sim.close();
    }
  }

  /** Syncs the connection `workflowId` once, continuing from its earlier syncs. */
  async function sync(
    sim: Simulator,
    config: ConnectionConfig,
    workflowId: string,
    tuning: Partial<Tuning> = FAST_TUNING,
  ): Promise<SyncResult> {
    const taskQueue = uniqueTaskQueue('faults');
    const worker = await workerFor(env, sim, config, taskQueue);
    return worker.runUntil(
      runSync({ client: env.client, workflowId, taskQueue, settings: settingsFor(config, tuning) }),
    );
  }

  it('windows of every age that answer 404 several times are asked again by later syncs until their data is exact', async () => {
    const dataStart = dayStart(5);
    await withSimulator({ dataStart }, async (sim) => {
      const day1 = wholeDay(4);
      // The oldest day, a middle one and the most recent one answer 404 five, three and two times.
      sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(5) }, times: 5 });
      sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(2) }, times: 3 });
      sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(0) }, times: 2 });
      // A 504 splits a day; its first half then answers 404 four times.
      sim.faults.add({ endpoint: 'export', kind: 'gateway_timeout', when: { hours: day1 } });
      sim.faults.add({
        endpoint: 'export',
        kind: 'not_found',
        when: { hours: { start: day1.start, end: day1.start + 11 * HOUR_MS } },
        times: 4,
      });
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
      const workflowId = uniqueTaskQueue('connection');

      const first = await sync(sim, config, workflowId);
      const listed = first.state.streams.events?.recheck ?? [];
      assert.ok(listed.length >= 3, `the 404'd hours are on the re-check list: ${JSON.stringify(listed)}`);
      assert.equal(first.streams.events?.status, 'complete');
      const recovered: string[] = [];
      let last = first;
      for (let round = 0; round < 6 && (last.state.streams.events?.recheck?.length ?? 0) > 0; round++) {
        last = await sync(sim, config, workflowId);
        recovered.push(...(last.streams.events?.recheck?.recovered ?? []));
      }
      assert.deepEqual(
        last.state.streams.events?.recheck,
        undefined,
        'every listed hour was served in the end',
      );
      assert.deepEqual(sim.faults.pending(), [], 'every fault was met');
      const mark = Date.parse(last.state.streams.events!.completeBefore);
      await assertEventsMatch(out, sim, dataStart, mark);
      const recoveredHour = (hour: number) =>
        recovered.some((interval) => {
          const [start, end] = interval.split('/').map(Date.parse) as [number, number];
          return start <= hour && hour < end;
        });
      for (const day of [wholeDay(5), wholeDay(2), wholeDay(0), day1]) {
        assert.ok(
          recoveredHour(day.start),
          `${isoDate(day.start)} is reported as recovered late: ${recovered.join(', ')}`,
        );
      }
      assert.ok(!recoveredHour(dayStart(3)), 'a day served on time is not reported as recovered');
    });
  });

  it('a quiet project: empty hours cost two quick asks each, and the watermark is not held back', async () => {
    const dataStart = dayStart(1);
    await withSimulator({ dataStart, eventsPerHour: 0 }, async (sim) => {
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, {
        destination: { path: out },
        streams: ['events'],
        request_time_range: 24,
      });
      const workflowId = uniqueTaskQueue('quiet');
      // The production wait between the two asks (seconds), not the test's shortened one.
      const newestOldEnough = () => Math.floor((Date.now() - 3 * HOUR_MS) / HOUR_MS) * HOUR_MS;
      const before = newestOldEnough();
      const result = await sync(sim, config, workflowId, { ...FAST_TUNING, notFoundRetryDelayMs: 5_000 });
      const mark = Date.parse(result.state.streams.events!.completeBefore);
      // An hour may begin while the sync runs: the mark is that of the moment it was planned.
      assert.ok(
        [before, newestOldEnough()].includes(mark),
        `up to the newest hour old enough: ${isoHour(mark)}`,
      );
      const windows = new Map<number, number>();
      for (const request of exportsIn(sim.requests))
        windows.set(request.start, (windows.get(request.start) ?? 0) + 1);
      assert.ok(windows.size >= 2);
      for (const [start, asks] of windows) assert.equal(asks, 2, `${isoHour(start)} was asked twice`);
      const recheck = result.state.streams.events?.recheck ?? [];
      assert.deepEqual(
        recheck.map(({ start, end }) => [start, end]),
        [
          [
            new Date(dataStart).toISOString().replace('.000', ''),
            new Date(mark).toISOString().replace('.000', ''),
          ],
        ],
        'one range covers every quiet hour',
      );
      const history = await env.client.workflow.getHandle(`${workflowId}/events`).fetchHistory();
      const attempts = (history.events ?? [])
        .map((event) => event.activityTaskStartedEventAttributes?.attempt)
        .filter((attempt) => attempt !== undefined && attempt !== null);
      assert.ok(attempts.length >= 2);
      assert.ok(
        attempts.every((attempt) => attempt === 1),
        'no activity was retried: no rounds of waiting',
      );
    });
  });

  it('a 504 on one hour is retried with backoff to exact output; a reset before the first byte splits a day', async () => {
    const dataStart = dayStart(1);
    await withSimulator({ dataStart }, async (sim) => {
      const hour = dataStart + 5 * HOUR_MS;
      sim.faults.add({
        endpoint: 'export',
        kind: 'gateway_timeout',
        when: { hours: { start: hour, end: hour } },
        times: 3,
      });
      sim.faults.add({ endpoint: 'export', kind: 'reset', when: { hours: wholeDay(0) } });
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, {
        destination: { path: out },
        streams: ['events'],
        request_time_range: 1,
      });
      const hourly = await sync(sim, config, uniqueTaskQueue('timeouts'));
      const asked = exportsIn(sim.requests).filter((r) => r.start === hour && r.end === hour);
      assert.deepEqual(
        asked.map((r) => r.status),
        [504, 504, 504, 200],
        'three timeouts, then served',
      );
      await assertEventsMatch(out, sim, dataStart, Date.parse(hourly.state.streams.events!.completeBefore));

      const daily = simulatorConfig(dataStart, {
        destination: { path: await temporaryDirectory() },
        streams: ['events'],
        request_time_range: 24,
      });
      sim.faults.add({ endpoint: 'export', kind: 'reset', when: { hours: wholeDay(0) } });
      const before = sim.requests.length;
      const split = await sync(sim, daily, uniqueTaskQueue('reset'));
      assert.ok(split.streams.events!.splits >= 1, 'the reset day was split at once');
      const reset = exportsIn(sim.requests.slice(before)).filter((r) => r.fault === 'reset');
      assert.equal(reset.length, 1);
      assert.equal(reset[0]!.end - reset[0]!.start, 23 * HOUR_MS);
      assert.equal(split.streams.events?.status, 'complete');
    });
  });

  it('504s that persist split a day down to one hour, then fail naming the timeouts, the size and the S3 export', async () => {
    const dataStart = dayStart(1);
    await withSimulator({ dataStart }, async (sim) => {
      const hour = dataStart + DAY + 7 * HOUR_MS;
      sim.faults.add({
        endpoint: 'export',
        kind: 'gateway_timeout',
        when: { hours: { start: hour, end: hour } },
        times: 1000,
      });
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
      const error = await sync(sim, config, uniqueTaskQueue('persistent'), {
        ...FAST_TUNING,
        hourTimeoutAttempts: 5,
      }).then(
        () => assert.fail('the sync should fail'),
        (error: unknown) => error,
      );
      assert.ok(error instanceof SyncFailedError);
      assert.match(
        error.message,
        new RegExp(`single hour ${isoHour(hour)}: Amplitude timed out 5 times on it`),
      );
      assert.match(error.message, /Amplitude's charts count about \d+ events in it/);
      assert.match(error.message, /Amazon S3 or Google Cloud Storage export/);
      const alone = exportsIn(sim.requests).filter((r) => r.start === hour && r.end === hour);
      assert.equal(alone.length, 5, 'the hour alone was asked five times');
      assert.ok(
        exportsIn(sim.requests).some((r) => r.start <= hour && r.end >= hour + HOUR_MS && r.status === 504),
        'windows of several hours around it were split',
      );
    });
  });

  it('the count reconciliation reports a day with missing events, with its hours, and is silent on complete days', async () => {
    const dataStart = dayStart(3);
    await withSimulator({ dataStart }, async (sim) => {
      // Amplitude keeps answering 404 for one day: its events are missing from the destination.
      const missing = wholeDay(1);
      sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: missing }, times: 1000 });
      const out = await temporaryDirectory();
      const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
      const result = await sync(sim, config, uniqueTaskQueue('reconcile'));
      const report = result.reconciliation as ReconcileResult;
      assert.equal(report.from, isoDate(dataStart));
      assert.deepEqual(
        report.differing.map((day) => day.date),
        [isoDate(missing.start)],
        'only the day with missing events is reported',
      );
      const day = report.differing[0]!;
      assert.equal(day.exported, 0);
      const expected = sim.groundTruth.dailyEventTotals(isoDate(missing.start), isoDate(missing.start))[0]!
        .count;
      assert.equal(day.amplitude, expected);
      assert.equal(day.hours.length, 5, 'the hours most likely affected');
      assert.equal(day.recheck?.length, 24, 'every hour of the day goes back on the re-check list');
      assert.ok(report.matching >= 2);
      sim.faults.clear();
    });
  });
});
