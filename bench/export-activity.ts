// Runs the export activity once, in a process of its own, and prints one JSON line of figures:
// the benchmark's RSS is then the activity's alone (no baseline run, no simulator in this process).
//
//   node --import tsx bench/export-activity.ts <base url> <first isoHour> <isoHour after the last> [destination JSON]
//
// Without a destination, into a fresh local directory; with one (s3, postgres), credentials come from
// this process's environment as on a worker.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { type ExportWindowResult, exportWindow } from '../src/activities/export-events.ts';
import { AmplitudeClient } from '../src/amplitude/client.ts';
import { destinations } from '../src/destination/open.ts';
import type { DestinationSpec } from '../src/destination/spec.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';

const [url, start, end, given] = process.argv.slice(2) as [string, string, string, string?];
const out = await mkdtemp(join(tmpdir(), 'bench-out-'));
const destination: DestinationSpec = given ? JSON.parse(given) : { type: 'local', path: out };
const opened = destinations();
const amplitude = new AmplitudeClient({
  baseUrl: url,
  apiKey: DEFAULT_CREDENTIALS.standard.apiKey,
  secretKey: DEFAULT_CREDENTIALS.standard.secretKey,
});
const rssBefore = process.memoryUsage.rss();
let peakRss = rssBefore;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage.rss());
}, 10);
const cpuBefore = process.cpuUsage();
const started = performance.now();
const result: ExportWindowResult = await new MockActivityEnvironment({ attempt: 1 }).run(
  exportWindow,
  { amplitude, destination: opened.open },
  {
    runKey: 'bench/run',
    destination,
    start,
    end,
    notFoundRetryDelayMs: 0,
    hourTimeoutAttempts: 1,
    hourTimeoutRetryMs: 0,
    projectTimezone: 'UTC',
  },
);
const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
clearInterval(sampler);
peakRss = Math.max(peakRss, process.memoryUsage.rss());
await amplitude.close();
await opened.close();
let outputBytes = result.bytes;
if (destination.type === 'local') {
  outputBytes = 0;
  for (const entry of await readdir(join(out, 'events'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) outputBytes += (await stat(join(entry.parentPath, entry.name))).size;
  }
}
await rm(out, { recursive: true, force: true });
console.log(
  JSON.stringify({
    records: result.records,
    partitions: result.partitions,
    seconds,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    rssBefore,
    peakRss,
    outputBytes,
  }),
);
process.exit(0);
