import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { STREAM_NAMES } from '../src/amplitude/streams.ts';
import {
  amplitudeBaseUrl,
  ConfigError,
  destinationOf,
  loadConfigFile,
  parseConfig,
  startDateMs,
} from '../src/config.ts';
import { compressionOf } from '../src/destination/spec.ts';

const airbyteConfig = {
  api_key: 'key',
  secret_key: 'secret',
  start_date: '2024-03-01T00:00:00Z',
  data_region: 'EU Residency Server',
  request_time_range: 6,
  active_users_group_by_country: false,
};

function errorOf(raw: unknown, env: NodeJS.ProcessEnv = {}): string {
  try {
    parseConfig(raw, env);
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.message;
  }
  assert.fail('expected the config to be rejected');
}

describe('connection config', () => {
  it('takes an Airbyte source-amplitude config file unchanged', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-'));
    const path = join(dir, 'airbyte.json');
    await writeFile(path, JSON.stringify(airbyteConfig));
    const config = await loadConfigFile(path, {});
    assert.equal(config.data_region, 'EU Residency Server');
    assert.equal(config.request_time_range, 6);
    assert.equal(config.active_users_group_by_country, false);
    assert.equal(startDateMs(config), Date.UTC(2024, 2, 1));
    assert.equal(amplitudeBaseUrl(config), 'https://analytics.eu.amplitude.com');
  });

  it('fills the documented defaults', () => {
    const config = parseConfig({ api_key: 'k', secret_key: 's', start_date: '2024-03-01' }, {});
    assert.equal(config.data_region, 'Standard Server');
    assert.equal(config.request_time_range, 24);
    assert.equal(config.active_users_group_by_country, true);
    assert.deepEqual(config.streams, STREAM_NAMES);
    assert.deepEqual(config.destination, { type: 'local', path: './amplitude-data' });
    assert.equal(config.export_availability_lag_hours, 3);
    assert.equal(config.export_lookback_hours, 6);
    assert.equal(config.project_timezone, 'UTC');
    assert.equal(amplitudeBaseUrl(config), 'https://amplitude.com');
  });

  it('takes credentials from AMPLITUDE_API_KEY / AMPLITUDE_SECRET_KEY', () => {
    const config = parseConfig(
      { start_date: '2024-03-01T00:00:00Z' },
      { AMPLITUDE_API_KEY: 'env-key', AMPLITUDE_SECRET_KEY: 'env-secret' },
    );
    assert.equal(config.api_key, 'env-key');
    assert.equal(config.secret_key, 'env-secret');
  });

  it('base_url replaces the region host, without a trailing slash', () => {
    const config = parseConfig({ ...airbyteConfig, base_url: 'http://127.0.0.1:8787/' }, {});
    assert.equal(amplitudeBaseUrl(config), 'http://127.0.0.1:8787');
  });

  it('file destinations compress with gzip unless zstd is asked for', () => {
    const local = destinationOf(parseConfig({ ...airbyteConfig, destination: { path: 'out' } }, {}));
    assert.equal(compressionOf(local), 'gzip');
    assert.equal(
      'compression' in local,
      false,
      'an unchanged config keeps its destination (and workflow ID)',
    );
    const zstd = parseConfig(
      { ...airbyteConfig, destination: { type: 's3', bucket: 'data-lake', compression: 'zstd' } },
      {},
    );
    assert.equal(compressionOf(destinationOf(zstd)), 'zstd');
    assert.match(
      errorOf({ ...airbyteConfig, destination: { path: 'out', compression: 'brotli' } }),
      /destination.compression must be "gzip" or "zstd"/,
    );
  });

  it('names each bad field and its fix', () => {
    const message = errorOf({
      api_key: '',
      start_date: '03/01/2024',
      data_region: 'US',
      request_time_range: 9000,
      streams: ['events', 'sessions'],
      base_url: 'ftp://x',
      project_timezone: 'Mars/Olympus',
    });
    assert.match(message, /api_key: api_key is empty/);
    assert.match(message, /secret_key: secret_key is required.*AMPLITUDE_SECRET_KEY/);
    assert.match(message, /start_date: start_date is not a valid time: use "YYYY-MM-DDTHH:mm:ssZ"/);
    assert.match(message, /data_region: data_region must be "Standard Server" or "EU Residency Server"/);
    assert.match(message, /request_time_range: request_time_range must be at most 8760 hours/);
    assert.match(message, /unknown stream "sessions"/);
    assert.match(message, /base_url: base_url must be an http\(s\) URL/);
    assert.match(message, /project_timezone is not a known IANA time zone/);
    assert.match(message, /nothing was started/);
  });

  it('rejects a start_date without a time zone rather than guessing one', () => {
    assert.match(
      errorOf({ ...airbyteConfig, start_date: '2024-03-01T00:00:00' }),
      /start_date is not a valid time/,
    );
  });

  it('rejects unknown fields and suggests the intended one', () => {
    assert.match(
      errorOf({ ...airbyteConfig, request_time_rang: 3 }),
      /request_time_rang: unknown field; did you mean "request_time_range"/,
    );
  });

  it('rejects a non-integer hour range and a non-object config', () => {
    assert.match(errorOf({ ...airbyteConfig, request_time_range: 1.5 }), /whole number of hours/);
    assert.match(errorOf([]), /expected a JSON object/);
  });

  it('explains an unreadable or malformed file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'config-'));
    await assert.rejects(loadConfigFile(join(dir, 'missing.json'), {}), /cannot read config file/);
    const path = join(dir, 'bad.json');
    await writeFile(path, '{"api_key": ');
    await assert.rejects(loadConfigFile(path, {}), /is not valid JSON/);
  });
});

describe('config for starting syncs on a cluster', () => {
  it('may leave the credentials to the workers', () => {
    const config = parseConfig({ start_date: '2024-03-01' }, {}, 'config', { requireCredentials: false });
    assert.equal(config.api_key, '');
    assert.equal(config.secret_key, '');
  });
});
