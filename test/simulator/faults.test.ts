import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gunzipSync, unzipSync } from 'fflate';
import { request } from 'undici';
import type { Simulator } from '../../src/simulator/index.ts';
import {
  completeLeadingEntries,
  DAY_MS,
  decodeExport,
  exportPath,
  get,
  hour,
  ndjsonLines,
  parseMemberName,
  readUntilQuiet,
  STANDARD_AUTH,
  simulator,
} from './helpers.ts';

const THREE_HOURS = exportPath(hour(0, 0), hour(0, 2));

async function withSimulator(test: (sim: Simulator) => Promise<void>, options = {}) {
  const sim = await simulator({ eventsPerHour: 40, eventsPerPartition: 25, ...options });
  try {
    await test(sim);
  } finally {
    await sim.close();
  }
}

describe('fault injection: responses replaced by an error', () => {
  it('rate_limit: 429 with Retry-After when asked, once, then the normal response', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'rate_limit', retryAfterSeconds: 7 });
      const limited = await get(sim, THREE_HOURS);
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['retry-after'], '7');
      assert.equal((await get(sim, THREE_HOURS)).status, 200);
      assert.deepEqual(
        sim.requests.map((entry) => [entry.status, entry.fault]),
        [
          [429, 'rate_limit'],
          [200, undefined],
        ],
      );
    }));

  it('rate_limit on a dashboard endpoint: the JSON envelope, and no Retry-After unless asked', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'users', kind: 'rate_limit' });
      const limited = await get(sim, '/api/2/users?start=20240301&end=20240301');
      assert.equal(limited.status, 429);
      assert.equal(limited.headers['retry-after'], undefined);
      assert.equal(JSON.parse(limited.text).error.http_code, 429);
    }));

  it('server_error: status 500 by default or the one given, as many times as asked', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'server_error', times: 2 });
      sim.faults.add({ endpoint: 'cohorts', kind: 'server_error', status: 503 });
      assert.equal((await get(sim, THREE_HOURS)).status, 500);
      assert.deepEqual(sim.faults.pending(), [
        { endpoint: 'export', kind: 'server_error', times: 1 },
        { endpoint: 'cohorts', kind: 'server_error', status: 503, times: 1 },
      ]);
      assert.equal((await get(sim, THREE_HOURS)).status, 500);
      assert.equal((await get(sim, THREE_HOURS)).status, 200);
      assert.equal((await get(sim, '/api/3/cohorts')).status, 503);
      assert.deepEqual(sim.faults.pending(), []);
    }));

  it('gateway_timeout: 504 with an HTML gateway page', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'gateway_timeout' });
      const response = await get(sim, THREE_HOURS);
      assert.equal(response.status, 504);
      assert.match(String(response.headers['content-type']), /text\/html/);
      assert.match(response.text, /504 Gateway Time-out/);
    }));

  it('too_large: the 400 of an export over 4 GB, although the range is small', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'too_large' });
      const response = await get(sim, THREE_HOURS);
      assert.equal(response.status, 400);
      assert.match(response.text, /too large.*S3 export/s);
    }));

  it('not_found: the transient 404 for a window that has data, which returns it afterwards', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'not_found' });
      const missing = await get(sim, THREE_HOURS);
      assert.equal(missing.status, 404);
      assert.match(missing.text, /Raw data files were not found\./);
      assert.equal(decodeExport((await get(sim, THREE_HOURS)).body).length, 6);
    }));

  it('non_zip: 200 with an HTML body', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'non_zip' });
      const response = await get(sim, THREE_HOURS);
      assert.equal(response.status, 200);
      assert.notEqual(response.body.subarray(0, 2).toString('latin1'), 'PK');
      assert.match(response.text, /<html>/);
    }));
});

describe('fault injection: matching rules', () => {
  it('fires hour-scoped rules only for export ranges that overlap the hours (both ends inclusive)', () =>
    withSimulator(async (sim) => {
      sim.faults.add({
        endpoint: 'export',
        kind: 'server_error',
        when: { hours: { start: hour(0, 5), end: hour(0, 6) } },
      });
      assert.equal((await get(sim, exportPath(hour(0, 0), hour(0, 4)))).status, 200);
      assert.equal((await get(sim, exportPath(hour(0, 7), hour(0, 9)))).status, 200);
      assert.equal((await get(sim, '/api/2/events/list')).status, 200);
      assert.equal(sim.faults.pending().length, 1);
      assert.equal((await get(sim, exportPath(hour(0, 6), hour(0, 8)))).status, 500);
      assert.equal(sim.faults.pending().length, 0);
    }));

  it('applies rules in the order they were added; endpoint "any" matches every endpoint; clear() drops them all', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'any', kind: 'server_error', status: 502 });
      sim.faults.add({ endpoint: 'annotations', kind: 'gateway_timeout' });
      assert.equal((await get(sim, '/api/2/annotations')).status, 502);
      assert.equal((await get(sim, '/api/2/annotations')).status, 504);
      sim.faults.add({ endpoint: 'any', kind: 'rate_limit', times: 5 });
      sim.faults.clear();
      assert.deepEqual(sim.faults.pending(), []);
      assert.equal((await get(sim, '/api/2/annotations')).status, 200);
    }));

  it('keeps body faults for requests that would succeed', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'short_body', afterBytes: 10 });
      const invalid = await get(sim, '/api/2/export?start=x&end=y');
      assert.equal(invalid.status, 400);
      assert.equal(sim.faults.pending().length, 1);
    }));
});

describe('fault injection: damaged successful bodies', () => {
  it('truncated: the connection is destroyed after afterBytes bytes of the zip', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'truncated', afterBytes: 2000 });
      const response = await request(`${sim.urls.standard}${THREE_HOURS}`, {
        headers: { authorization: STANDARD_AUTH },
      });
      assert.equal(response.statusCode, 200);
      let received = 0;
      await assert.rejects(async () => {
        for await (const chunk of response.body) received += chunk.length;
      });
      assert.equal(received, 2000);
    }));

  it('short_body: the response ends cleanly after afterBytes bytes, leaving an incomplete archive', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'short_body', afterBytes: 3000 });
      const response = await get(sim, THREE_HOURS);
      assert.equal(response.status, 200);
      assert.equal(response.body.length, 3000);
      assert.throws(() => unzipSync(response.body));
    }));

  it('short_body on a dashboard endpoint: cut-off JSON', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'cohorts', kind: 'short_body', afterBytes: 50 });
      const response = await get(sim, '/api/3/cohorts');
      assert.equal(response.status, 200);
      assert.equal(response.body.length, 50);
      assert.throws(() => JSON.parse(response.text));
    }));

  it('corrupt_member: a valid zip whose first gzip member no longer decompresses', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'corrupt_member' });
      const response = await get(sim, THREE_HOURS);
      assert.equal(response.status, 200);
      const members = Object.entries(unzipSync(response.body));
      assert.equal(members.length, 6);
      assert.throws(() => gunzipSync(members[0]![1]));
      for (const [, gz] of members.slice(1)) assert.ok(ndjsonLines(gunzipSync(gz)).length > 0);
    }));
});

describe('fault injection: stalls', () => {
  it('stall: headers, then nothing until the client gives up', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'stall' });
      const stalled = await readUntilQuiet(sim, THREE_HOURS);
      assert.equal(stalled.status, 200);
      assert.equal(stalled.bytes.length, 0);
      assert.equal(stalled.ended, false);
    }));

  it('stall after afterBytes bytes of the body', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'stall', afterBytes: 777 });
      const stalled = await readUntilQuiet(sim, THREE_HOURS);
      assert.equal(stalled.bytes.length, 777);
      assert.equal(stalled.ended, false);
    }));

  it('stall after the complete members of the first afterHours upload hours', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'stall', afterHours: 2 });
      const stalled = await readUntilQuiet(sim, exportPath(hour(0, 0), hour(0, 5)));
      assert.equal(stalled.ended, false);
      const entries = completeLeadingEntries(stalled.bytes);
      assert.deepEqual(
        entries.map((entry) => entry.name),
        [
          '187520/187520_2024-03-01_0#0.json.gz',
          '187520/187520_2024-03-01_0#1.json.gz',
          '187520/187520_2024-03-01_1#0.json.gz',
          '187520/187520_2024-03-01_1#1.json.gz',
        ],
      );
      const lastEntry = entries.at(-1)!;
      assert.equal(
        lastEntry.data.byteOffset - stalled.bytes.byteOffset + lastEntry.data.length + 16,
        stalled.bytes.length,
        'nothing after the last complete member',
      );
      const hourOne = entries.slice(2).flatMap((entry) => ndjsonLines(gunzipSync(entry.data)));
      assert.deepEqual(hourOne, [
        ...sim.groundTruth.rawEventLinesOfHour(parseMemberName(entries[2]!.name).hourStartMs),
      ]);
    }));

  it('close() ends stalled responses instead of waiting for them', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'stall', times: 2 });
      const response = await request(`${sim.urls.standard}${THREE_HOURS}`, {
        headers: { authorization: STANDARD_AUTH },
      });
      assert.equal(response.statusCode, 200);
      const reading = response.body.arrayBuffer().then(
        () => 'ended',
        () => 'failed',
      );
      const started = Date.now();
      await sim.close();
      assert.ok(Date.now() - started < 5000, 'close() did not wait for the stalled body');
      assert.equal(await reading, 'failed');
    }));
});

describe('fault injection: resets and faults bounded by the simulated clock', () => {
  it('reset: the connection closes before the first response byte', () =>
    withSimulator(async (sim) => {
      sim.faults.add({ endpoint: 'export', kind: 'reset' });
      await assert.rejects(
        request(`${sim.urls.standard}${THREE_HOURS}`, { headers: { authorization: STANDARD_AUTH } }),
        (error: Error & { code?: string }) => error.code === 'UND_ERR_SOCKET' || error.code === 'ECONNRESET',
      );
      assert.equal(sim.requests[0]!.fault, 'reset');
      assert.equal((await get(sim, THREE_HOURS)).status, 200, 'the next request is served');
    }));

  it('until: a window answers 404 on every request until the clock reaches the given time, then its data', () =>
    withSimulator(async (sim) => {
      const day = { start: hour(0, 0), end: hour(0, 23) };
      sim.faults.add({
        endpoint: 'export',
        kind: 'not_found',
        when: { hours: day },
        until: sim.now() + DAY_MS,
      });
      for (let i = 0; i < 3; i++) assert.equal((await get(sim, THREE_HOURS)).status, 404);
      assert.equal(
        (await get(sim, exportPath(hour(1, 0), hour(1, 2)))).status,
        200,
        'other windows are served',
      );
      sim.advance(DAY_MS);
      assert.equal((await get(sim, THREE_HOURS)).status, 200);
      assert.deepEqual(sim.faults.pending(), []);
    }));
});
