import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { STREAM_NAMES } from '../src/amplitude/streams.ts';
import { floorToHour, HOUR_MS, isoDate } from '../src/amplitude/time.ts';
import { type ConnectionConfig, loadConfigFile } from '../src/config.ts';
import { runSync, SyncFailedError } from '../src/sync-runner.ts';
import type { SyncResult } from '../src/workflows/types.ts';
import {
  type Simulator,
  settingsFor,
  simulatorConfig,
  startSimulatorOnRealClock,
  temporaryDirectory,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { assertDashboardsMatch, assertEventsMatch, partitionFiles, readRecords } from './helpers/output.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;
const ALL = STREAM_NAMES;

describe('syncs on a real Temporal dev server against the simulator', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  const dataStart = floorToHour(Date.now()) - 3 * DAY;

  before(async () => {
    [env, sim] = await Promise.all([
      startDevServer(),
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 60 }),
    ]);
  });
  after(async () => {
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  async function sync(
    config: ConnectionConfig,
    workflowId = uniqueTaskQueue('connection'),
  ): Promise<SyncResult> {
    const taskQueue = uniqueTaskQueue('sync');
    const worker = await workerFor(env, sim, config, taskQueue);
    return worker.runUntil(
      runSync({ client: env.client, workflowId, taskQueue, settings: settingsFor(config) }),
    );
  }

  it('a full sync of all six streams equals the ground truth exactly', async () => {
    const out = await temporaryDirectory();
    const startedAt = Date.now();
    const result = await sync(simulatorConfig(dataStart, { destination: { path: out } }));
    for (const stream of ALL) assert.equal(result.streams[stream]?.status, 'complete', stream);

    const closeBefore = Date.parse(result.state.streams.events!.completeBefore);
    assert.ok(
      floorToHour(startedAt - 3 * HOUR_MS) <= closeBefore &&
        closeBefore <= floorToHour(Date.now() - 3 * HOUR_MS),
      'events are complete up to the newest hour past the 3-hour availability lag',
    );
    const events = await assertEventsMatch(out, sim, dataStart, closeBefore);
    assert.ok(events > 3000, `a meaningful amount of events (${events})`);
    assert.equal(result.streams.events?.records, events);

    const today = result.state.streams.active_users!.completeBefore;
    assert.ok(
      [isoDate(startedAt), isoDate(Date.now())].includes(today),
      `dashboards are complete up to today (${today}), which has not ended`,
    );
    await assertDashboardsMatch(out, sim, isoDate(dataStart), result.state.streams, true);

    const manifest = JSON.parse(await readFile(result.manifest, 'utf8'));
    assert.deepEqual(manifest.state, result.state, 'the manifest records the resulting state');
    const written = manifest.streams.events.written;
    assert.deepEqual(
      written.partitions.map((p: { partition: string }) => p.partition),
      await partitionFiles(out, 'events'),
      'the manifest lists every partition written',
    );
    assert.equal(written.records, events);
    assert.equal(manifest.streams.cohorts.written.records, sim.groundTruth.cohorts().length);

    assert.deepEqual(
      await readRecords(out, 'annotations/annotations.jsonl.gz'),
      sim.groundTruth.annotations(),
    );
    assert.deepEqual(await readRecords(out, 'cohorts/cohorts.jsonl.gz'), sim.groundTruth.cohorts());
    assert.deepEqual(
      await readRecords(out, 'events_list/events_list.jsonl.gz'),
      sim.groundTruth.eventsList(),
    );
  });

  it('an unchanged Airbyte source-amplitude config file works', async () => {
    const dir = await temporaryDirectory();
    const path = join(dir, 'airbyte-source-amplitude.json');
    await writeFile(
      path,
      JSON.stringify({
        api_key: 'eu-key',
        secret_key: 'eu-secret',
        start_date: new Date(Date.now() - DAY).toISOString().replace(/\.\d+Z$/, 'Z'),
        data_region: 'EU Residency Server',
        request_time_range: 6,
        active_users_group_by_country: false,
      }),
    );
    const config = await loadConfigFile(path, {});
    config.destination = { type: 'local', path: join(dir, 'out') };
    const result = await sync(config);
    assert.equal(result.streams.events?.status, 'complete');
    const euExports = sim.requests.filter((r) => r.region === 'eu' && r.path === '/api/2/export');
    assert.ok(euExports.length >= 4, 'the EU region host served the export, in windows of 6 hours');
    for (const request of euExports)
      assert.ok(request.exportHours!.end - request.exportHours!.start <= 5 * HOUR_MS);
    const users = sim.requests.filter((r) => r.region === 'eu' && r.path === '/api/2/users');
    assert.ok(
      users.length > 0 && users.every((r) => r.query.g === undefined),
      'no country grouping when toggled off',
    );
    await assertDashboardsMatch(
      join(dir, 'out'),
      sim,
      config.start_date.slice(0, 10),
      result.state.streams,
      false,
    );
  });

  it('base_url replaces the region host', async () => {
    const out = await temporaryDirectory();
    const config = simulatorConfig(
      Date.now() - DAY,
      {
        data_region: 'Standard Server',
        base_url: `${sim.urls.eu}/`,
        destination: { path: out },
        streams: ['annotations'],
      },
      'eu',
    );
    const before = sim.requests.length;
    const result = await sync(config);
    assert.equal(result.streams.annotations?.records, sim.groundTruth.annotations().length);
    assert.ok(sim.requests.slice(before).every((r) => r.region === 'eu'));
  });

  it('a start_date in the future syncs nothing and fails nothing', async () => {
    const out = await temporaryDirectory();
    const result = await sync(simulatorConfig(Date.now() + 30 * DAY, { destination: { path: out } }));
    for (const stream of ALL) assert.equal(result.streams[stream]?.status, 'complete', stream);
    assert.equal(result.streams.events?.records, 0);
    assert.equal(result.streams.active_users?.records, 0);
    assert.equal(result.state.streams.events, undefined, 'no watermark before anything was read');
  });

  it('an unusable state given from outside fails the sync at once, naming the problem', async () => {
    const out = await temporaryDirectory();
    const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
    const taskQueue = uniqueTaskQueue('sync');
    const worker = await workerFor(env, sim, config, taskQueue);
    const error = await worker
      .runUntil(
        runSync({
          client: env.client,
          workflowId: uniqueTaskQueue('connection'),
          taskQueue,
          settings: settingsFor(config),
          state: { streams: { events: { completeBefore: 'not a time' } } },
        }),
      )
      .then(
        () => assert.fail('the sync should fail'),
        (error: unknown) => error,
      );
    assert.ok(error instanceof SyncFailedError);
    assert.match(error.message, /state given to this sync is unusable: events: completeBefore "not a time"/);
  });

  it('one stream failing lets the others finish and keep their progress; the sync names the stream', async () => {
    const out = await temporaryDirectory();
    const failing = await startSimulatorOnRealClock({
      dataStart,
      eventsPerHour: 20,
      countryGrouping: false,
    });
    try {
      const config = simulatorConfig(Date.now() - DAY, {
        destination: { path: out },
        base_url: failing.urls.standard,
      });
      const error = await sync(config).then(
        () => assert.fail('the sync should fail'),
        (error: unknown) => error,
      );
      assert.ok(error instanceof SyncFailedError);
      assert.match(
        error.message,
        /1 of 6 streams failed: active_users \(.*Invalid user property country.*"active_users_group_by_country": false/,
      );
      const partial = error.partial!;
      assert.equal(partial.streams.active_users?.status, 'failed');
      for (const stream of [
        'events',
        'average_session_length',
        'annotations',
        'cohorts',
        'events_list',
      ] as const) {
        assert.equal(partial.streams[stream]?.status, 'complete', stream);
      }
      assert.ok(partial.state.streams.events?.completeBefore, 'the events progress is kept');
      assert.equal(partial.state.streams.active_users, undefined);
    } finally {
      await failing.close();
    }
  });
});
