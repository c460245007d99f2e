import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { HOUR_MS } from '../src/amplitude/time.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';
import type { SyncInput } from '../src/workflows/types.ts';
import { run, start, writeConnectionFile } from './helpers/cli.ts';
import { type Simulator, startSimulatorOnRealClock, temporaryDirectory } from './helpers/harness.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;

describe('the amplitude-sync command', () => {
  let sim: Simulator;
  let dir: string;
  const dataStart = Date.now() - 2 * DAY;

  before(async () => {
    [sim, dir] = await Promise.all([
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 30 }),
      temporaryDirectory('cli-'),
    ]);
  });
  after(async () => {
    await sim?.close();
  });

  const configFile = (name: string, overrides: Record<string, unknown> = {}) =>
    writeConnectionFile(dir, name, sim, dataStart, overrides);

  const credentials = {
    AMPLITUDE_API_KEY: DEFAULT_CREDENTIALS.standard.apiKey,
    AMPLITUDE_SECRET_KEY: DEFAULT_CREDENTIALS.standard.secretKey,
  };

  it('refuses a state file it cannot use (exit 2)', async () => {
    const config = await configFile('state.json');
    const state = join(dir, 'state-file.json');
    await writeFile(
      state,
      JSON.stringify({ streams: { events: { completeBefore: 'yesterday' }, sessions: {} } }),
    );
    const result = await run(['sync', '--config', config, '--state', state], credentials, dir);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /events: completeBefore "yesterday" is not a UTC time/);
    assert.match(result.stderr, /"sessions" is not a stream/);
    const missing = await run(
      ['sync', '--config', config, '--state', join(dir, 'nope.json')],
      credentials,
      dir,
    );
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--state .*nope\.json: ENOENT/);
  });

  it("takes a state written by Airbyte's source-amplitude: the sync starts where Airbyte stopped", async () => {
    const config = await configFile('from-airbyte.json', { streams: ['events'], request_time_range: 1 });
    // Airbyte's cursor: the newest event it emitted, in the middle of an hour a day ago.
    const hour = Math.floor((Date.now() - DAY) / HOUR_MS) * HOUR_MS;
    const cursor = new Date(hour + 59 * 60_000 + 10_965).toISOString().replace('T', ' ').replace('Z', '000');
    const state = join(dir, 'airbyte-state.json');
    await writeFile(
      state,
      JSON.stringify([
        {
          type: 'STREAM',
          stream: { stream_descriptor: { name: 'events' }, stream_state: { server_upload_time: cursor } },
        },
      ]),
    );
    const before = sim.requests.length;
    const env = { ...credentials, AMPLITUDE_SYNC_HOME: join(dir, 'home-airbyte') };
    const result = await run(['sync', '--config', config, '--state', state], env, dir);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /Airbyte's state, read as events from \d{4}-\d{2}-\d{2}T\d{2}:00:00Z/);
    const exports = sim.requests.slice(before).filter((r) => r.path === '/api/2/export');
    assert.ok(exports.length > 0);
    const first = Math.min(...exports.map((r) => r.exportHours!.start));
    // Its hour again, plus the lookback of 6 hours: nothing from start_date, two days back.
    assert.equal(first, hour - 6 * HOUR_MS);
  });

  it('refuses a schedule without a cluster, or with an interval it cannot use (exit 2)', async () => {
    const config = await configFile('scheduled.json');
    const local = await run(['schedule', '--config', config, '--every', '1h'], credentials, dir);
    assert.equal(local.code, 2);
    assert.match(local.stderr, /schedule needs a Temporal cluster that stays up: set TEMPORAL_ADDRESS/);
    const env = { ...credentials, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const seconds = await run(['schedule', '--config', config, '--every', '10s'], env, dir);
    assert.equal(seconds.code, 2);
    assert.match(seconds.stderr, /--every 10s: give a whole number of minutes, hours or days, at least 1m/);
    const missing = await run(['schedule', '--config', config], env, dir);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /schedule needs --every INTERVAL \(like 30m, 1h or 1d\) or --delete/);
  });

  it('refuses a bad config before starting anything, naming the field (exit 2)', async () => {
    const config = await configFile('bad.json', { request_time_range: 0, data_region: 'US' });
    const result = await run(['sync', '--config', config], credentials, dir);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /request_time_range: request_time_range must be at least 1 hour/);
    assert.match(
      result.stderr,
      /data_region: data_region must be "Standard Server" or "EU Residency Server"/,
    );
    const bad = await run(['sync', '--config', config, '--streams', 'events,sessions'], credentials, dir);
    assert.equal(bad.code, 2);
  });

  it('sync with an embedded Temporal: the state survives in its database, so the next run is incremental', async () => {
    const config = await configFile('embedded.json', { streams: ['events', 'cohorts'] });
    const env = { ...credentials, AMPLITUDE_SYNC_HOME: join(dir, 'home') };
    const first = await run(['sync', '--config', config], env, dir);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /embedded Temporal: UI at http:\/\/127\.0\.0\.1:\d+/);
    assert.match(first.stdout, /events\s+complete\s+\d+ records/);
    const workflowId = /sync started: workflow (amplitude-sync-embedded-[0-9a-f]{8}),/.exec(
      first.stderr,
    )?.[1];
    assert.ok(workflowId, 'the workflow ID names the connection');
    const manifests = await readdir(join(dir, 'embedded.json.out', '_manifests', workflowId));
    assert.equal(manifests.length, 1);

    const before = sim.requests.length;
    const second = await run(['sync', '--config', config], env, dir);
    assert.equal(second.code, 0, second.stderr);
    const exports = sim.requests.slice(before).filter((r) => r.path === '/api/2/export');
    assert.ok(exports.length > 0);
    const manifest = JSON.parse(
      await readFile(join(dir, 'embedded.json.out', '_manifests', workflowId, manifests[0]!), 'utf8'),
    );
    const watermark = Date.parse(manifest.state.streams.events.completeBefore);
    for (const request of exports) {
      assert.ok(request.exportHours!.start >= watermark - 6 * HOUR_MS, 'only the lookback is read again');
    }
  });

  it('with TEMPORAL_ADDRESS, sync starts the workflow for separate workers and waits; check reports a bad key', async () => {
    const temporal: TestWorkflowEnvironment = await startDevServer();
    const config = await configFile('remote.json', {
      streams: ['annotations', 'events_list', 'average_session_length'],
    });
    const env = { TEMPORAL_ADDRESS: temporal.address, AMPLITUDE_SYNC_TASK_QUEUE: 'cli-remote' };
    const worker = start(['worker', '--config', config], { ...env, ...credentials }, dir);
    try {
      const sync = await run(['sync', '--config', config], env, dir);
      assert.equal(sync.code, 0, sync.stderr);
      assert.match(sync.stderr, /using Temporal at 127\.0\.0\.1:\d+; workers on task queue cli-remote/);
      assert.match(sync.stdout, /annotations\s+complete\s+\d+ records/);
      const workflowId = /sync started: workflow (\S+),/.exec(sync.stderr)![1]!;
      const described = await temporal.client.workflow.getHandle(workflowId).describe();
      assert.equal(described.status.name, 'COMPLETED');

      const created = await run(['schedule', '--config', config, '--every', '1h'], env, dir);
      assert.equal(created.code, 0, created.stderr);
      assert.match(
        created.stdout,
        new RegExp(`schedule ${workflowId} created: syncs .* every 1h, next at 20`),
      );
      const schedule = temporal.client.schedule.getHandle(workflowId);
      const before = await schedule.describe();
      assert.equal(before.spec.intervals?.[0]?.every, HOUR_MS);
      assert.equal(before.policies.overlap, 'SKIP');
      const input = before.action.args?.[0] as SyncInput | undefined;
      assert.deepEqual(input?.settings.streams, ['annotations', 'events_list', 'average_session_length']);
      assert.match(
        input?.initialState?.streams.average_session_length?.completeBefore ?? '',
        /^\d{4}-\d{2}-\d{2}$/,
        'the first scheduled run continues from the manual sync',
      );
      const updated = await run(['schedule', '--config', config, '--every', '30m'], env, dir);
      assert.match(updated.stdout, /updated: .* every 30m/);
      assert.equal((await schedule.describe()).spec.intervals?.[0]?.every, HOUR_MS / 2);
      const manual = await run(['sync', '--config', config], env, dir);
      assert.equal(manual.code, 1, 'a scheduled connection is not synced by hand as well');
      assert.match(manual.stderr, /runs on a Temporal Schedule of the same ID; trigger a run there instead/);
      const deleted = await run(['schedule', '--config', config, '--delete'], env, dir);
      assert.equal(deleted.code, 0, deleted.stderr);
      const again = await run(['schedule', '--config', config, '--delete'], env, dir);
      assert.equal(again.code, 2);
      assert.match(
        again.stderr,
        new RegExp(`there is no schedule ${workflowId} to delete. .*give the same --out`),
      );
      // A schedule's first run from the state of Airbyte's source-amplitude.
      const fromAirbyte = await configFile('scheduled-from-airbyte.json', {
        streams: ['events', 'active_users'],
      });
      const airbyteState = join(dir, 'airbyte-schedule-state.json');
      await writeFile(
        airbyteState,
        JSON.stringify([
          {
            type: 'STREAM',
            stream: {
              stream_descriptor: { name: 'events' },
              stream_state: { server_upload_time: '2026-11-30 06:59:10.965023' },
            },
          },
          {
            type: 'STREAM',
            stream: { stream_descriptor: { name: 'active_users' }, stream_state: { date: '2026-11-29' } },
          },
        ]),
      );
      const scheduled = await run(
        [
          'schedule',
          '--config',
          fromAirbyte,
          '--every',
          '1h',
          '--state',
          airbyteState,
          '--id',
          'from-airbyte',
        ],
        env,
        dir,
      );
      assert.equal(scheduled.code, 0, scheduled.stderr);
      assert.match(scheduled.stdout, /the first from --state/);
      const airbyteInput = (await temporal.client.schedule.getHandle('from-airbyte').describe()).action
        .args?.[0] as SyncInput | undefined;
      assert.deepEqual(airbyteInput?.initialState, {
        streams: {
          events: { completeBefore: '2026-11-30T06:00:00Z' },
          active_users: { completeBefore: '2026-11-29' },
        },
      });
    } finally {
      worker.kill('SIGTERM');
      await new Promise((resolve) => worker.on('close', resolve));
      await temporal.teardown();
    }
    const check = await run(
      ['check', '--config', await configFile('wrong.json')],
      { ...credentials, AMPLITUDE_SECRET_KEY: 'nope' },
      dir,
    );
    assert.equal(check.code, 1);
    assert.match(check.stderr, /connection check failed: .*invalid API key or wrong data region/);
  });

  it('demo syncs a simulated project and verifies it against the ground truth', async () => {
    const demoDir = await temporaryDirectory('demo-');
    const result = await run(
      ['demo', '--days', '1'],
      { AMPLITUDE_SYNC_HOME: join(demoDir, 'home') },
      demoDir,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(
      result.stdout,
      /verified: \d+ events in \d+ hour partitions match the simulator's ground truth/,
    );
    assert.ok((await readdir(join(demoDir, 'amplitude-data'))).includes('events'));
  });
});
