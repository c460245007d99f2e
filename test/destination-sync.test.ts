import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { floorToDay, HOUR_MS, isoDate } from '../src/amplitude/time.ts';
import { parseConfig } from '../src/config.ts';
import type { DestinationSpec } from '../src/destination/spec.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';
import { runSync, SyncFailedError } from '../src/sync-runner.ts';
import { finished, start, waitForActivityPollers } from './helpers/cli.ts';
import { databaseOf, eventsByHour, openUploads, streamRecords } from './helpers/destination-output.ts';
import { destinationEnv, newBucket, newDatabase, useTestCredentials } from './helpers/destinations.ts';
import {
  FAST_TUNING,
  type Simulator,
  settingsFor,
  startSimulatorOnRealClock,
  temporaryDirectory,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { sharedPostgres } from './helpers/shared-servers.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;

/** The destination as a connection config file gives it. */
function configDestination(spec: DestinationSpec): Record<string, unknown> {
  if (spec.type === 's3') {
    return {
      type: 's3',
      bucket: spec.bucket,
      prefix: spec.prefix,
      endpoint: spec.endpoint,
      region: spec.region,
      force_path_style: true,
    };
  }
  if (spec.type === 'postgres') return { type: 'postgres', url: spec.url, schema: spec.schema };
  return spec as unknown as Record<string, unknown>;
}

describe('syncs into s3 and postgres, with two workers on one task queue (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  let dir: string;
  // Two whole UTC days, past the availability lag at any hour.
  const dataStart = floorToDay(Date.now() - 4 * HOUR_MS) - 2 * DAY;

  before(async () => {
    await useTestCredentials();
    [env, sim, dir] = await Promise.all([
      startDevServer(),
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 40 }),
      temporaryDirectory('dest-sync-'),
    ]);
  });
  after(async () => {
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  function connection(destination: DestinationSpec, fields: Record<string, unknown> = {}) {
    return {
      api_key: DEFAULT_CREDENTIALS.standard.apiKey,
      secret_key: DEFAULT_CREDENTIALS.standard.secretKey,
      start_date: new Date(dataStart).toISOString(),
      destination: configDestination(destination),
      request_time_range: 1,
      ...fields,
    };
  }

  /** Two `amplitude-sync worker` processes on one task queue, as a small fleet runs them. */
  async function twoWorkers(configPath: string, taskQueue: string) {
    const workerEnv = {
      ...(await destinationEnv()),
      TEMPORAL_ADDRESS: env.address,
      AMPLITUDE_SYNC_TASK_QUEUE: taskQueue,
    };
    // Two activities each while a sync runs four windows at once: neither worker can take them all.
    const workers = [0, 1].map(() =>
      start(['worker', '--config', configPath, '--max-activities', '2'], workerEnv, dir),
    );
    // Both poll before the sync starts, or the first could take every window.
    await waitForActivityPollers(env.client, taskQueue, workers);
    return {
      async stop() {
        for (const worker of workers) worker.kill('SIGTERM');
        await Promise.all(workers.map(finished));
      },
    };
  }

  async function exportWorkers(workflowId: string): Promise<Set<string>> {
    const history = await env.client.workflow.getHandle(`${workflowId}/events`).fetchHistory();
    const scheduled = new Map<string, string>();
    for (const event of history.events ?? []) {
      const type = event.activityTaskScheduledEventAttributes?.activityType?.name;
      if (type) scheduled.set(String(event.eventId), type);
    }
    const identities = new Set<string>();
    for (const event of history.events ?? []) {
      const started = event.activityTaskStartedEventAttributes;
      if (started && scheduled.get(String(started.scheduledEventId)) === 'exportWindow')
        identities.add(started.identity ?? '');
    }
    return identities;
  }

  for (const [name, make] of [
    ['s3', newBucket],
    ['postgres', newDatabase],
  ] as const) {
    it(`${name}: export windows run on both workers, and the output equals the ground truth without duplicates or leftovers`, async () => {
      const destination = await make();
      const configPath = join(dir, `${name}.json`);
      const fields = connection(destination);
      await writeFile(configPath, JSON.stringify({ ...fields, base_url: sim.urls.standard }));
      const taskQueue = uniqueTaskQueue(`fleet-${name}`);
      const workers = await twoWorkers(configPath, taskQueue);
      let result: Awaited<ReturnType<typeof runSync>>;
      const workflowId = uniqueTaskQueue(`connection-${name}`);
      try {
        const config = parseConfig(fields, {});
        result = await runSync({
          client: env.client,
          workflowId,
          taskQueue,
          settings: settingsFor(config, { ...FAST_TUNING, exportConcurrency: 4 }),
        });
      } finally {
        await workers.stop();
      }
      assert.equal(result.streams.events?.status, 'complete');
      assert.ok((await exportWorkers(workflowId)).size >= 2, 'both workers ran export windows');

      const mark = Date.parse(result.state.streams.events!.completeBefore);
      const expected = sim.groundTruth.eventHours(dataStart, mark);
      const stored = await eventsByHour(destination);
      assert.deepEqual(
        [...stored.keys()].sort(),
        expected.map((hour) => hour.hour),
      );
      for (const { hour } of expected) {
        const truth = [...sim.groundTruth.eventsOfHour(Date.parse(`${hour}:00:00Z`))].sort((a, b) =>
          String(a.uuid).localeCompare(String(b.uuid)),
        );
        assert.deepEqual(stored.get(hour), truth, hour);
      }
      const firstDay = isoDate(dataStart);
      const lastDay = isoDate(Date.parse(result.state.streams.active_users!.completeBefore) - DAY);
      assert.deepEqual(
        await streamRecords(destination, 'active_users'),
        sim.groundTruth.activeUsers(firstDay, lastDay, true),
      );
      const cohorts = [...sim.groundTruth.cohorts()].sort((a, b) =>
        JSON.stringify(a.id).localeCompare(JSON.stringify(b.id)),
      );
      assert.deepEqual(await streamRecords(destination, 'cohorts'), cohorts);

      if (destination.type === 's3')
        assert.deepEqual(await openUploads(destination), [], 'no upload left open');
      if (destination.type === 'postgres') {
        const sql = await databaseOf(destination);
        const duplicates = await sql.unsafe(
          'select uuid from amplitude.events group by uuid having count(*) > 1',
        );
        const syncs = await sql.unsafe('select state from amplitude._syncs');
        await sql.end();
        assert.equal(duplicates.length, 0);
        assert.deepEqual(syncs[0]?.state, result.state, 'the state is in _syncs too');
      }
    });
  }

  it('a destination that cannot be used fails the sync at once, names the problem and the fix, and writes nothing', async () => {
    const pg = await sharedPostgres();
    const bucket = await newBucket();
    const database = await newDatabase();
    const altered = await newDatabase();
    const cases: Array<[string, DestinationSpec, RegExp, Record<string, string>?]> = [
      [
        'a bucket that does not exist',
        { ...bucket, bucket: 'no-such-bucket-here' },
        /does not exist: create it, or fix destination.bucket/,
      ],
      [
        'wrong AWS credentials',
        bucket,
        /refused the worker's AWS credentials \(SignatureDoesNotMatch\)/,
        { AWS_SECRET_ACCESS_KEY: 'wrong' },
      ],
      [
        'a database that refuses the connection',
        { ...database, url: `postgres://${pg.user}@127.0.0.1:1/x` },
        /refuses connections there/,
      ],
      [
        'a wrong password',
        database,
        /password was refused: put the right one in PGPASSWORD/,
        { PGPASSWORD: 'wrong' },
      ],
      [
        'a schema without rights',
        { ...database, url: database.url!.replace(`${pg.user}@`, `${pg.limitedUser}@`) },
        /lacks the rights it needs: GRANT CREATE/,
        { PGPASSWORD: pg.limitedPassword },
      ],
    ];
    // A table altered by hand: the column the sync needs is gone.
    const sql = await databaseOf(altered);
    await sql.unsafe('create schema amplitude; create table amplitude.events (uuid uuid, record jsonb)');
    await sql.end();
    cases.push([
      'a table altered by hand',
      altered,
      /table amplitude.events has no column .*event_time.*add it back as/,
    ]);

    for (const [what, destination, message, overrides] of cases) {
      const saved = { ...process.env };
      Object.assign(process.env, overrides ?? {});
      try {
        const config = parseConfig(connection(destination, { streams: ['events', 'cohorts'] }), {});
        const taskQueue = uniqueTaskQueue('bad-destination');
        const worker = await workerFor(env, sim, config, taskQueue);
        const before = sim.requests.length;
        const error = await worker
          .runUntil(
            runSync({
              client: env.client,
              workflowId: `${taskQueue}-c`,
              taskQueue,
              settings: settingsFor(config),
            }),
          )
          .then(
            () => assert.fail(`${what}: the sync should fail`),
            (error: unknown) => error,
          );
        assert.ok(error instanceof SyncFailedError, what);
        assert.match(error.message, message, what);
        assert.match(error.message, /Nothing was synced; the state stays where it was/, what);
        assert.equal(
          sim.requests.slice(before).filter((r) => r.path === '/api/2/export').length,
          0,
          `${what}: nothing was asked`,
        );
      } finally {
        process.env = saved;
      }
    }
  });

  it('check proves the destination writable, or names what is wrong with it', async () => {
    const config = parseConfig(connection(await newBucket()), {});
    const taskQueue = uniqueTaskQueue('check-destination');
    const worker = await workerFor(env, sim, config, taskQueue);
    await worker.runUntil(async () => {
      const good = await newDatabase();
      const ok = (await env.client.workflow.execute('check', {
        taskQueue,
        workflowId: `${taskQueue}-good`,
        args: [{ destination: good }],
      })) as { destination: string };
      assert.match(ok.destination, /postgres:\/\/.*\(schema amplitude\): writable/);
      const sql = await databaseOf(good);
      const tables = await sql.unsafe(
        `select table_name from information_schema.tables where table_schema = 'amplitude'`,
      );
      await sql.end();
      assert.ok(
        tables.some((table) => table.table_name === 'events'),
        'the tables were created',
      );

      const missing = { ...(await newBucket()), bucket: 'not-a-bucket-of-ours' };
      await assert.rejects(
        env.client.workflow.execute('check', {
          taskQueue,
          workflowId: `${taskQueue}-bad`,
          args: [{ destination: missing }],
        }),
        (error: Error & { cause?: { cause?: Error } }) =>
          /does not exist: create it, or fix destination.bucket/.test(error.cause?.cause?.message ?? ''),
      );
    });
  });
});
