import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Simulator } from '../../src/simulator/index.ts';
import { basicAuth, EU_AUTH, get, STANDARD_AUTH, simulator } from './helpers.ts';

describe('simulator authentication and routing', () => {
  let sim: Simulator;
  before(async () => {
    sim = await simulator();
  });
  after(() => sim.close());

  it('listens on 127.0.0.1 with one base URL per region, without a trailing slash', () => {
    assert.match(sim.urls.standard, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.match(sim.urls.eu, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(sim.urls.standard, sim.urls.eu);
  });

  it('accepts the standard key pair on the standard listener and the EU pair on the EU listener', async () => {
    assert.equal((await get(sim, '/api/2/events/list')).status, 200);
    assert.equal((await get(sim, '/api/2/events/list', { region: 'eu' })).status, 200);
  });

  it('answers 403 "Invalid API Key" for a wrong secret', async () => {
    const response = await get(sim, '/api/2/events/list', { authorization: basicAuth('std-key', 'wrong') });
    assert.equal(response.status, 403);
    assert.equal(response.text, 'Invalid API Key');
  });

  it('binds keys to their region: EU keys on the standard host and standard keys on the EU host get 403', async () => {
    const euOnStandard = await get(sim, '/api/2/export?start=20240301T00&end=20240301T00', {
      authorization: EU_AUTH,
    });
    const standardOnEu = await get(sim, '/api/3/cohorts', { region: 'eu', authorization: STANDARD_AUTH });
    assert.deepEqual([euOnStandard.status, euOnStandard.text], [403, 'Invalid API Key']);
    assert.deepEqual([standardOnEu.status, standardOnEu.text], [403, 'Invalid API Key']);
  });

  it('answers 401 (an assumption: Amplitude documents neither) for a missing or malformed Authorization header', async () => {
    const missing = await get(sim, '/api/2/annotations', { authorization: null });
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Basic realm="Amplitude"');
    assert.equal((await get(sim, '/api/2/annotations', { authorization: 'Bearer abc' })).status, 401);
    assert.equal((await get(sim, '/api/2/annotations', { authorization: 'Basic !!!' })).status, 401);
    const noColon = `Basic ${Buffer.from('just-a-key').toString('base64')}`;
    assert.equal((await get(sim, '/api/2/annotations', { authorization: noColon })).status, 401);
  });

  it('answers 404 with the JSON error envelope for an unknown path', async () => {
    const response = await get(sim, '/api/2/nothing-here');
    assert.equal(response.status, 404);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(response.text).error.http_code, 404);
  });

  it('records every request in arrival order with its region, query and status', async () => {
    const before = sim.requests.length;
    await get(sim, '/api/2/users?start=20240301&end=20240302&m=active&i=1', { region: 'eu' });
    await get(sim, '/api/2/annotations', { authorization: null });
    const [users, annotations] = sim.requests.slice(before);
    assert.deepEqual(users, {
      region: 'eu',
      method: 'GET',
      path: '/api/2/users',
      query: { start: '20240301', end: '20240302', m: 'active', i: '1' },
      status: 200,
      at: sim.now(),
    });
    assert.equal(annotations?.status, 401);
  });
});
