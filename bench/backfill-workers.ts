// A multi-day backfill of the events stream through the product as users run it: a Temporal dev
// server, `amplitude-sync worker` processes on one task queue, and a sync started with
// {"connection": ...}, first with one worker, then with two. Prints the throughput of each. On a
// 2-core machine the second worker mostly shows that windows spread over the fleet; on separate
// machines it adds their cores.
//
//   node --import tsx bench/backfill-workers.ts [--events-per-hour 10000] [--windows-in-flight 4]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DAY_MS, floorToDay, HOUR_MS } from '../src/amplitude/time.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';
import type { SyncResult } from '../src/workflows/types.ts';
import { start as startCommand, waitForActivityPollers } from '../test/helpers/cli.ts';
import { startDevServer } from '../test/helpers/temporal.ts';
import { MB, startSimulatorProcess, warm } from './harness.ts';

const { values } = parseArgs({
  options: {
    'events-per-hour': { type: 'string', default: '10000' },
    'windows-in-flight': { type: 'string', default: '4' },
  },
});
const eventsPerHour = Number(values['events-per-hour']);
const cacheDir = resolve('.bench-cache');
const [sim, env] = await Promise.all([startSimulatorProcess(cacheDir, eventsPerHour), startDevServer()]);
const dir = await mkdtemp(join(tmpdir(), 'bench-backfill-'));
const start = floorToDay(Date.now()) - 2 * DAY_MS;
const end = floorToDay(Date.now() - 4 * HOUR_MS);
const connections = join(dir, 'connections.json');
await writeFile(
  connections,
  JSON.stringify({
    bench: {
      start_date: new Date(start).toISOString(),
      base_url: sim.url,
      request_time_range: 6,
      export_windows_in_flight: Number(values['windows-in-flight']),
      streams: ['events'],
      destination: { path: join(dir, 'out') },
    },
  }),
);

async function workers(count: number, taskQueue: string) {
  const started = Array.from({ length: count }, () =>
    startCommand(
      ['worker', '--connections', connections],
      {
        TEMPORAL_ADDRESS: env.address,
        AMPLITUDE_SYNC_TASK_QUEUE: taskQueue,
        AMPLITUDE_BENCH_API_KEY: DEFAULT_CREDENTIALS.standard.apiKey,
        AMPLITUDE_BENCH_SECRET_KEY: DEFAULT_CREDENTIALS.standard.secretKey,
      },
      resolve('.'),
    ),
  );
  await waitForActivityPollers(env.client, taskQueue, started, count);
  return started;
}

try {
  await warm(sim.url, start, end);
  console.log(
    `backfill from ${new Date(start).toISOString()} to the newest exportable hour (${eventsPerHour} events an hour), windows of 6 h, ${values['windows-in-flight']} in flight; Node ${process.version}`,
  );
  for (const count of [1, 2]) {
    const taskQueue = `bench-backfill-${count}-${Date.now()}`;
    const fleet = await workers(count, taskQueue);
    const started = performance.now();
    const result = (await env.client.workflow.execute('sync', {
      taskQueue,
      workflowId: `bench-backfill-${count}-${Date.now()}`,
      args: [{ connection: 'bench', full_refresh: true }],
    })) as SyncResult;
    const seconds = (performance.now() - started) / 1000;
    const events = result.streams.events!;
    for (const worker of fleet) worker.kill('SIGTERM');
    await Promise.all(fleet.map((worker) => new Promise((done) => worker.on('exit', done))));
    console.log(
      `  ${count} worker${count > 1 ? 's' : ' '}: ${(Date.parse(events.completeBefore!) - start) / HOUR_MS} hours, ${events.records} events in ${seconds.toFixed(1)} s = ${(events.records / seconds).toFixed(0)} events/s, ${(events.bytes / MB / seconds).toFixed(1)} MB/s of gzip written (${events.status})`,
    );
  }
} finally {
  sim.child.kill('SIGTERM');
  await env.teardown();
  await rm(dir, { recursive: true, force: true });
}
