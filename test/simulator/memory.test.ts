import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { request } from 'undici';
import { ExportStreamTally } from './export-tally.ts';
import { exportPath, get, hour, STANDARD_AUTH, simulator } from './helpers.ts';

const MB = 1e6;
const EVENTS_PER_BIG_HOUR = 60_000;
const RSS_GROWTH_BOUND = 150 * MB;

// The multi-GB version of this measurement is bench/simulator-memory.ts; this one keeps the suite fast.
describe('export streaming resources', () => {
  it('serves a ~300 MB (uncompressed) export with flat memory, the client reading and discarding it', async () => {
    const warmUpHour = hour(0, 0);
    const sim = await simulator({ eventsPerHour: (h) => (h === warmUpHour ? 2_000 : EVENTS_PER_BIG_HOUR) });
    try {
      await get(sim, exportPath(warmUpHour, warmUpHour));
      const baseline = process.memoryUsage.rss();
      let peak = baseline;
      const sampler = setInterval(() => {
        peak = Math.max(peak, process.memoryUsage.rss());
      }, 20);

      const started = performance.now();
      const response = await request(`${sim.urls.standard}${exportPath(hour(0, 1), hour(0, 3))}`, {
        headers: { authorization: STANDARD_AUTH },
      });
      const tally = new ExportStreamTally();
      for await (const chunk of response.body) tally.push(chunk as Buffer);
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage.rss());

      console.log(
        `export of ${(tally.ndjsonBytes / MB).toFixed(0)} MB NDJSON (${(tally.zipBytes / MB).toFixed(0)} MB zip, ` +
          `${tally.entries} members) in ${seconds.toFixed(1)} s = ${(tally.ndjsonBytes / MB / seconds).toFixed(0)} MB/s uncompressed; ` +
          `RSS ${(baseline / MB).toFixed(0)} MB before, peak ${(peak / MB).toFixed(0)} MB (+${((peak - baseline) / MB).toFixed(0)} MB)`,
      );
      assert.equal(response.statusCode, 200);
      assert.equal(tally.entries, 3 * Math.ceil(EVENTS_PER_BIG_HOUR / 5000));
      assert.ok(tally.ndjsonBytes > 250 * MB, `${tally.ndjsonBytes} bytes of NDJSON`);
      assert.ok(peak - baseline < RSS_GROWTH_BOUND, `RSS grew by ${(peak - baseline) / MB} MB`);
    } finally {
      await sim.close();
    }
  });

  it('stops generating when the client goes away mid-export', async () => {
    const sim = await simulator({ eventsPerHour: EVENTS_PER_BIG_HOUR });
    try {
      const abort = new AbortController();
      const response = await request(`${sim.urls.standard}${exportPath(hour(0, 0), hour(0, 9))}`, {
        headers: { authorization: STANDARD_AUTH },
        signal: abort.signal,
      });
      let received = 0;
      await assert.rejects(async () => {
        for await (const chunk of response.body) {
          received += chunk.length;
          if (received > 100_000) abort.abort();
        }
      });
      const cpuBefore = process.cpuUsage();
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const cpu = process.cpuUsage(cpuBefore);
      const busyMs = (cpu.user + cpu.system) / 1000;
      assert.ok(busyMs < 800, `the process kept working for ${busyMs} ms of the following second`);
      assert.equal((await get(sim, '/api/2/events/list')).status, 200);
    } finally {
      await sim.close();
    }
  });
});
