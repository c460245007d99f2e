import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AmplitudeClient } from '../src/amplitude/client.ts';
import { AmplitudeHttpError } from '../src/amplitude/errors.ts';
import { DAY_MS, HOUR_MS } from '../src/amplitude/time.ts';
import { DEFAULT_CREDENTIALS, type Simulator, startSimulator } from '../src/simulator/index.ts';

describe('Amplitude client', () => {
  let sim: Simulator;
  let client: AmplitudeClient;
  const now = Date.UTC(2024, 2, 10, 12);

  before(async () => {
    sim = await startSimulator({ dataStart: now - 3 * DAY_MS, now, dashboardLatencyMs: 50 });
    client = new AmplitudeClient({
      baseUrl: sim.urls.standard,
      apiKey: DEFAULT_CREDENTIALS.standard.apiKey,
      secretKey: DEFAULT_CREDENTIALS.standard.secretKey,
    });
  });
  after(async () => {
    await client?.close();
    await sim?.close();
  });

  it('keeps Dashboard REST calls within Amplitude’s 5 in flight, so none is refused', async () => {
    const calls = Array.from({ length: 12 }, () => client.getJson('/api/2/events/list'));
    const answers = await Promise.all(calls);
    assert.equal(answers.length, 12);
    assert.equal(client.dashboardPeakConcurrency, 5);
    assert.ok(!sim.requests.some((r) => r.status === 429), 'no request got a 429');
  });

  it('tells "no data" (404 Raw data files were not found) from any other 404', async () => {
    const future = now + 10 * DAY_MS;
    assert.deepEqual(await client.openExport(future, future + HOUR_MS), { found: false });
    await assert.rejects(client.getJson('/api/2/no-such-endpoint'), (error: unknown) => {
      assert.ok(error instanceof AmplitudeHttpError);
      assert.equal(error.status, 404);
      return true;
    });
  });

  it('reports Retry-After on a 429', async () => {
    sim.faults.add({ endpoint: 'annotations', kind: 'rate_limit', retryAfterSeconds: 7 });
    await assert.rejects(client.getJson('/api/2/annotations'), (error: unknown) => {
      assert.ok(error instanceof AmplitudeHttpError);
      assert.equal(error.status, 429);
      assert.equal(error.retryAfterMs, 7000);
      return true;
    });
  });
});
