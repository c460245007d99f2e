// Syncs against Amplitude's reported 404 and 504 behaviour, with production settings, on a real
// Temporal dev server: prints events expected, written, recovered late, duplicates, export requests
// and wall time per sync, and the wall time of a sync of 48 quiet hours. Asserts nothing.
//
//   node --import tsx bench/fault-runs.ts [--syncs 4]
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { floorToDay, HOUR_MS } from '../src/amplitude/time.ts';
import { runSync } from '../src/sync-runner.ts';
import type { SyncResult } from '../src/workflows/types.ts';
import {
  type Simulator,
  settingsFor,
  simulatorConfig,
  startSimulatorOnRealClock,
  temporaryDirectory,
  workerFor,
} from '../test/helpers/harness.ts';
import { startDevServer } from '../test/helpers/temporal.ts';

const DAY = 24 * HOUR_MS;
const { values } = parseArgs({ options: { syncs: { type: 'string', default: '4' } } });
const env = await startDevServer();
let connections = 0;

async function syncOnce(sim: Simulator, config: ReturnType<typeof simulatorConfig>, workflowId: string) {
  const taskQueue = `bench-faults-${++connections}`;
  const worker = await workerFor(env, sim, config, taskQueue);
  const started = performance.now();
  const result: SyncResult = await worker.runUntil(
    runSync({ client: env.client, workflowId, taskQueue, settings: settingsFor(config, {}) }),
  );
  return { result, seconds: (performance.now() - started) / 1000 };
}

/** Events in the destination, and how many uuids appear more than once. */
async function written(out: string): Promise<{ events: number; duplicates: number }> {
  const seen = new Set<string>();
  let events = 0;
  let duplicates = 0;
  const files = await readdir(join(out, 'events'), { recursive: true }).catch(() => []);
  for (const file of files.map(String).filter((name) => name.endsWith('.jsonl.gz') && !name.includes('/.'))) {
    for (const line of gunzipSync(await readFile(join(out, 'events', file)))
      .toString('utf8')
      .split('\n')) {
      if (!line) continue;
      const uuid = /"uuid":"([^"]+)"/.exec(line)?.[1] ?? line;
      events++;
      if (seen.has(uuid)) duplicates++;
      seen.add(uuid);
    }
  }
  return { events, duplicates };
}

const lastFullDay = floorToDay(Date.now() - 4 * HOUR_MS) - DAY;
const wholeDay = (ago: number) => ({
  start: lastFullDay - ago * DAY,
  end: lastFullDay - ago * DAY + 23 * HOUR_MS,
});

// 1. Windows of every age answer 404 several times before Amplitude serves them; a 504 splits a day
// whose halves then answer 404.
{
  const dataStart = lastFullDay - 5 * DAY;
  const sim = await startSimulatorOnRealClock({ dataStart, eventsPerHour: 60 });
  sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(5) }, times: 5 });
  sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(3) }, times: 3 });
  sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(2) }, times: 4 });
  sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(0) }, times: 2 });
  sim.faults.add({ endpoint: 'export', kind: 'gateway_timeout', when: { hours: wholeDay(1) } });
  sim.faults.add({ endpoint: 'export', kind: 'not_found', when: { hours: wholeDay(1) }, times: 4 });
  const out = await temporaryDirectory('bench-faults-');
  const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
  console.log(
    '404s of every age (5, 3, 4 and 2 times), a 504 whose halves answer 404 four times; production settings',
  );
  console.log('sync  expected  written  recovered-late  duplicates  export-requests  seconds  status');
  let recovered = 0;
  for (let n = 1; n <= Number(values.syncs); n++) {
    const before = sim.requests.length;
    const { result, seconds } = await syncOnce(sim, config, 'bench-faults');
    const mark = Date.parse(result.state.streams.events!.completeBefore);
    const expected = sim.groundTruth.eventHours(dataStart, mark).reduce((sum, hour) => sum + hour.count, 0);
    for (const interval of result.streams.events?.recheck?.recovered ?? []) {
      const [start, end] = interval.split('/').map(Date.parse) as [number, number];
      recovered += sim.groundTruth.eventHours(start, end).reduce((sum, hour) => sum + hour.count, 0);
    }
    const { events, duplicates } = await written(out);
    const requests = sim.requests.slice(before).filter((r) => r.path === '/api/2/export').length;
    const pending = result.state.streams.events?.recheck?.length ?? 0;
    console.log(
      `${String(n).padStart(4)}  ${String(expected).padStart(8)}  ${String(events).padStart(7)}  ${String(recovered).padStart(14)}  ${String(duplicates).padStart(10)}  ${String(requests).padStart(15)}  ${seconds.toFixed(1).padStart(7)}  ${result.streams.events?.status}, ${pending} range(s) to re-check`,
    );
  }
  await sim.close();
}

// 2. A quiet project: 48 hours without any event.
for (const windowHours of [24, 1]) {
  const close = Math.floor((Date.now() - 3 * HOUR_MS) / HOUR_MS) * HOUR_MS;
  const dataStart = close - 48 * HOUR_MS;
  const sim = await startSimulatorOnRealClock({ dataStart, eventsPerHour: 0 });
  const out = await temporaryDirectory('bench-quiet-');
  const config = simulatorConfig(dataStart, {
    destination: { path: out },
    streams: ['events'],
    request_time_range: windowHours,
  });
  const { result, seconds } = await syncOnce(sim, config, `bench-quiet-${windowHours}`);
  const requests = sim.requests.filter((r) => r.path === '/api/2/export').length;
  console.log(
    `48 quiet hours, request_time_range ${windowHours}: ${seconds.toFixed(1)} s, ${requests} export requests, watermark ${result.state.streams.events?.completeBefore} (${(close - Date.parse(result.state.streams.events!.completeBefore)) / HOUR_MS} h behind the newest hour old enough)`,
  );
  await sim.close();
}
await env.teardown();
