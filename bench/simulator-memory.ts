// Streams a multi-GB export from the simulator through a client that reads and discards it, and
// prints throughput and memory. Not a test: it prints figures.
//
//   node --import tsx bench/simulator-memory.ts [--gb 2.2] [--cache-dir /tmp/amplitude-cache]
//
// With --cache-dir the export is served twice: once rendering the cache, once from it.

import { parseArgs } from 'node:util';
import { request } from 'undici';
import { DAY_MS, exportHourParam, HOUR_MS } from '../src/amplitude/time.ts';
import { DEFAULT_CREDENTIALS, type Simulator, startSimulator } from '../src/simulator/index.ts';
import { ExportStreamTally } from '../test/simulator/export-tally.ts';

const MB = 1e6;
const EVENTS_PER_HOUR = 200_000;
/** Measured average line size of the simulator's events, used to size the request. */
const APPROXIMATE_LINE_BYTES = 1780;

const { values } = parseArgs({
  options: { gb: { type: 'string', default: '2.2' }, 'cache-dir': { type: 'string' } },
});
const targetBytes = Number(values.gb) * 1e9;
const hours = Math.ceil(targetBytes / (EVENTS_PER_HOUR * APPROXIMATE_LINE_BYTES));
const dataStart = Date.UTC(2024, 2, 1);
const authorization = `Basic ${Buffer.from(`${DEFAULT_CREDENTIALS.standard.apiKey}:${DEFAULT_CREDENTIALS.standard.secretKey}`).toString('base64')}`;

async function serveOnce(sim: Simulator, label: string) {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 50);
  const started = performance.now();
  const response = await request(
    `${sim.urls.standard}/api/2/export?start=${exportHourParam(dataStart)}&end=${exportHourParam(dataStart + (hours - 1) * HOUR_MS)}`,
    { headers: { authorization } },
  );
  if (response.statusCode !== 200)
    throw new Error(`export answered ${response.statusCode}: ${await response.body.text()}`);
  const tally = new ExportStreamTally();
  for await (const chunk of response.body) tally.push(chunk as Buffer);
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  console.log(
    `${label}: ${(tally.ndjsonBytes / MB).toFixed(0)} MB NDJSON in ${tally.entries} members ` +
      `(${(tally.zipBytes / MB).toFixed(0)} MB zip) in ${seconds.toFixed(1)} s = ` +
      `${(tally.ndjsonBytes / MB / seconds).toFixed(0)} MB/s uncompressed, ${(tally.zipBytes / MB / seconds).toFixed(0)} MB/s on the wire; ` +
      `RSS ${(baseline / MB).toFixed(0)} MB before, peak ${(peak / MB).toFixed(0)} MB (+${((peak - baseline) / MB).toFixed(0)} MB)`,
  );
}

const sim = await startSimulator({
  dataStart,
  now: dataStart + DAY_MS + hours * HOUR_MS,
  eventsPerHour: EVENTS_PER_HOUR,
  exportSizeLimitBytes: Number.MAX_SAFE_INTEGER,
  exportCacheDir: values['cache-dir'],
});
try {
  console.log(`export of ${hours} upload hours x ${EVENTS_PER_HOUR} events (~${values.gb} GB uncompressed)`);
  await serveOnce(sim, values['cache-dir'] ? 'generated (rendering the cache)' : 'generated');
  if (values['cache-dir']) await serveOnce(sim, 'served from the cache');
} finally {
  await sim.close();
}
