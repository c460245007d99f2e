// A connection served by a fleet (two workers on one task queue, dev server): one sync of it at a time,
// and its Dashboard requests under Amplitude's per-project limit of 5 across both workers.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { STREAM_NAMES } from '../src/amplitude/streams.ts';
import { floorToDay, HOUR_MS } from '../src/amplitude/time.ts';
import { progressFrame, showProgress } from '../src/progress-display.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';
import type { SyncResult } from '../src/workflows/types.ts';
import { finished, start, waitForActivityPollers } from './helpers/cli.ts';
import {
  type Simulator,
  startSimulatorOnRealClock,
  temporaryDirectory,
  uniqueTaskQueue,
} from './helpers/harness.ts';
import { freePort } from './helpers/ports.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;

/** The sum over both workers of a metric's samples whose labels include `labels`. */
async function metricSum(ports: number[], name: string, labels: Record<string, string>): Promise<number> {
  let sum = 0;
  for (const port of ports) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const line of text.split('\n')) {
      if (!line.startsWith(`${name}{`)) continue;
      if (!Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`))) continue;
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return sum;
}

describe('one connection, two workers (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  const stops: Array<() => Promise<void>> = [];
  let metricsPorts: number[] = [];
  const taskQueue = uniqueTaskQueue('fleet');
  // A year of dashboard days: a dozen monthly slices per dashboard stream.
  const dataStart = floorToDay(Date.now()) - 365 * DAY;

  before(async () => {
    const dir = await temporaryDirectory('fleet-');
    [env, sim] = await Promise.all([
      startDevServer(),
      // Slow Dashboard answers, so that requests overlap as they would against Amplitude.
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 1, dashboardLatencyMs: 250 }),
    ]);
    const connections = join(dir, 'connections.json');
    await writeFile(
      connections,
      JSON.stringify({
        'web-prod': {
          start_date: new Date(dataStart).toISOString(),
          base_url: sim.urls.standard,
          streams: ['active_users', 'average_session_length', 'annotations', 'cohorts', 'events_list'],
          destination: { path: join(dir, 'out') },
        },
      }),
    );
    const workerEnv = {
      TEMPORAL_ADDRESS: env.address,
      AMPLITUDE_SYNC_TASK_QUEUE: taskQueue,
      AMPLITUDE_WEB_PROD_API_KEY: DEFAULT_CREDENTIALS.standard.apiKey,
      AMPLITUDE_WEB_PROD_SECRET_KEY: DEFAULT_CREDENTIALS.standard.secretKey,
    };
    // Each worker alone would allow 5 Dashboard requests at once; the fleet must ask no more than 5 in all.
    metricsPorts = await Promise.all([freePort(), freePort()]);
    const workers = metricsPorts.map((port) =>
      start(
        [
          'worker',
          '--connections',
          connections,
          '--max-activities',
          '4',
          '--metrics-port',
          `127.0.0.1:${port}`,
        ],
        workerEnv,
        dir,
      ),
    );
    stops.push(async () => {
      for (const worker of workers) worker.kill('SIGTERM');
      await Promise.all(workers.map(finished));
    });
    await waitForActivityPollers(env.client, taskQueue, workers);
  });
  after(async () => {
    await Promise.all(stops.map((stop) => stop()));
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  async function activityWorkers(workflowId: string): Promise<Set<string>> {
    const identities = new Set<string>();
    for (const stream of [
      'active_users',
      'average_session_length',
      'annotations',
      'cohorts',
      'events_list',
    ]) {
      const history = await env.client.workflow.getHandle(`${workflowId}/${stream}`).fetchHistory();
      for (const event of history.events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.add(identity);
      }
    }
    return identities;
  }

  it("holds the connection's Dashboard requests to 5 at once across both workers", async () => {
    const workflowId = `fleet-sync-${Date.now()}`;
    const result = (await env.client.workflow.execute('sync', {
      taskQueue,
      workflowId,
      args: [{ connection: 'web-prod' }],
    })) as SyncResult;
    for (const summary of Object.values(result.streams)) assert.equal(summary?.status, 'complete');
    assert.ok((result.streams.active_users?.slices ?? 0) >= 12, 'a slice per month');
    const identities = await activityWorkers(workflowId);
    assert.equal(identities.size, 2, `both workers worked: ${[...identities].join(', ')}`);
    const refused = sim.requests.filter((entry) => !entry.path.includes('export') && entry.status === 429);
    assert.equal(refused.length, 0, 'Amplitude never refused a request for concurrency');
    assert.ok(
      sim.dashboardPeak('standard') <= 5,
      `at most 5 at once (peak ${sim.dashboardPeak('standard')})`,
    );
    assert.ok(sim.dashboardPeak('standard') >= 3, 'the requests did overlap');
  });

  it('a second sync of the connection while one runs fails at once, naming the lock; the first completes', async () => {
    const [first, second] = await Promise.all(
      ['a', 'b'].map((name) =>
        env.client.workflow.start('sync', {
          taskQueue,
          workflowId: `fleet-race-${name}-${Date.now()}`,
          args: [{ connection: 'web-prod' }],
        }),
      ),
    );
    const outcomes = await Promise.allSettled([first!.result(), second!.result()]);
    const failed = outcomes.filter((outcome) => outcome.status === 'rejected');
    assert.equal(failed.length, 1, 'exactly one of the two ran');
    const error = (failed[0] as PromiseRejectedResult).reason;
    assert.ok(error instanceof WorkflowFailedError);
    assert.match(
      error.cause?.message ?? '',
      /Another sync of connection web-prod is running .*amplitude-sync-lock\/web-prod/,
    );
    const completed = outcomes.find(
      (outcome) => outcome.status === 'fulfilled',
    ) as PromiseFulfilledResult<SyncResult>;
    assert.equal(completed.value.streams.cohorts?.status, 'complete');

    // Once it ended, the connection is free again.
    const again = (await env.client.workflow.execute('sync', {
      taskQueue,
      workflowId: `fleet-after-${Date.now()}`,
      args: [{ connection: 'web-prod', streams: ['annotations'] }],
    })) as SyncResult;
    assert.equal(again.streams.annotations?.status, 'complete');
  });

  it('status shows the running sync and its streams, the last completed and failed ones, watermarks', async () => {
    // Amplitude holds the cohorts back for a while: the sync stays running.
    sim.faults.add({ endpoint: 'cohorts', kind: 'rate_limit', retryAfterSeconds: 20 });
    const runningId = `status-running-${Date.now()}`;
    const running = await env.client.workflow.start('sync', {
      taskQueue,
      workflowId: runningId,
      args: [{ connection: 'web-prod' }],
    });
    for (;;) {
      const progress = (await running.query('progress').catch(() => ({}))) as Record<string, unknown>;
      if (Object.keys(progress).length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // What `sync` shows on a terminal: a line per stream, the retry it waits for and why.
    const streams = STREAM_NAMES.filter((stream) => stream !== 'events');
    let frame: string[] = [];
    for (let tries = 0; tries < 100 && !frame.some((line) => line.includes('retry waiting')); tries++) {
      frame = await progressFrame(env.client, runningId, streams, new Map());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(frame.length, streams.length);
    assert.match(
      frame.find((line) => line.startsWith('cohorts:')) ?? '',
      /^cohorts: running, 0 of 1 slices, 0 records.*; retry waiting: .*429.*next try in \d+ s/,
    );
    assert.match(
      frame.find((line) => line.startsWith('active_users:')) ?? '',
      /^active_users: (running|complete), \d+ of \d+ slices, [\d,]+ records/,
    );
    const written: string[] = [];
    const terminal = {
      columns: 200,
      write: (text: string) => written.push(text),
    } as unknown as NodeJS.WriteStream;
    const display = showProgress(env.client, runningId, streams, terminal, 100);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await display.stop();
    assert.ok(written.length >= 2, 'redrawn while it runs');
    assert.match(
      written[1]!,
      new RegExp(`^\\x1b\\[${streams.length}A`),
      'each frame replaces the last in place',
    );

    const refused = await env.client.workflow.start('sync', {
      taskQueue,
      workflowId: `status-refused-${Date.now()}`,
      args: [{ connection: 'web-prod' }],
    });
    await assert.rejects(refused.result());

    const shown = await finished(start(['status'], { TEMPORAL_ADDRESS: env.address }, process.cwd()));
    assert.equal(shown.code, 0, shown.stderr);
    const text = shown.stdout;
    assert.match(text, /^web-prod$/m);
    assert.doesNotMatch(text, /^status-refused/m, 'a refused sync is listed under its connection');
    assert.match(text, new RegExp(`running {4}${runningId}, since `));
    assert.match(text, /^ {4}cohorts: /m);
    assert.match(text, /^ {4}active_users: (incomplete|complete): \d+ slices done/m);
    assert.match(text, /completed {2}fleet-\S+ at \S+: \d+ records/);
    assert.match(text, /failed {5}status-refused-\d+ at \S+: Another sync of connection web-prod is running/);
    assert.match(text, /watermarks active_users \d{4}-\d{2}-\d{2}/);

    const only = await finished(
      start(['status', '--connection', 'nobody'], { TEMPORAL_ADDRESS: env.address }, process.cwd()),
    );
    assert.match(only.stdout, /no syncs and no schedules/);
    await running.result();
  });

  it("serves the SDK's metrics and ours on each worker's Prometheus endpoint", async () => {
    // After the syncs above: their records, windows and retries are counted.
    const records = await metricSum(metricsPorts, 'amplitude_sync_records_written_total', {
      connection: 'web-prod',
      stream: 'active_users',
    });
    assert.ok(records > 0, `records written counted (${records})`);
    assert.ok(
      (await metricSum(metricsPorts, 'amplitude_sync_bytes_written_total', { stream: 'cohorts' })) > 0,
    );
    assert.ok(
      (await metricSum(metricsPorts, 'amplitude_sync_retries_total', { cause: 'AmplitudeRateLimited' })) >= 1,
      'the 429 of the status test was counted as a retry',
    );
    const texts = await Promise.all(
      metricsPorts.map(async (port) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text()),
    );
    assert.ok(
      texts.every((text) => /^temporal_/m.test(text)),
      "the SDK's own metrics are there too",
    );
    // The gauge comes from the sync workflow, on whichever worker ran its last workflow task.
    const lag = texts
      .join('\n')
      .match(/^amplitude_sync_watermark_lag_seconds\{[^}]*stream="active_users"[^}]*\} (\S+)$/m);
    assert.ok(lag, 'the watermark lag of active_users is a gauge');
    assert.ok(Number(lag[1]) >= 0);
  });

  it('sync --connection and schedule --connection start the same input; status shows the schedule', async () => {
    const cli = (args: string[]) =>
      finished(
        start(args, { TEMPORAL_ADDRESS: env.address, AMPLITUDE_SYNC_TASK_QUEUE: taskQueue }, process.cwd()),
      );
    const synced = await cli(['sync', '--connection', 'web-prod', '--streams', 'annotations']);
    assert.equal(synced.code, 0, synced.stderr);
    assert.match(synced.stdout, /sync completed/);
    assert.match(synced.stdout, /annotations/);

    const scheduled = await cli([
      'schedule',
      '--connection',
      'web-prod',
      '--every',
      '1d',
      '--streams',
      'cohorts',
    ]);
    assert.equal(scheduled.code, 0, scheduled.stderr);
    assert.match(
      scheduled.stdout,
      /schedule amplitude-sync-web-prod created: syncs connection web-prod every 1d/,
    );
    const schedule = env.client.schedule.getHandle('amplitude-sync-web-prod');
    const described = await schedule.describe();
    assert.deepEqual(described.action.type === 'startWorkflow' ? described.action.args : undefined, [
      { connection: 'web-prod', streams: ['cohorts'] },
    ]);
    await schedule.trigger();
    let workflowId: string | undefined;
    while (!workflowId) {
      workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const run = (await env.client.workflow.getHandle(workflowId).result()) as SyncResult;
    assert.equal(run.streams.cohorts?.status, 'complete');

    const shown = await cli(['status', '--connection', 'web-prod']);
    assert.match(shown.stdout, /schedule {3}amplitude-sync-web-prod, next run \d{4}-/);
    const removed = await cli(['schedule', '--connection', 'web-prod', '--delete']);
    assert.equal(removed.code, 0, removed.stderr);
  });
});
