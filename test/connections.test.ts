// A worker's connections: from a file or a directory, credentials from the environment or files.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { ConnectionRegistry, credentialPrefix, loadConnections } from '../src/connections.ts';
import { temporaryDirectory } from './helpers/harness.ts';

describe("a worker's connections", () => {
  it('come from a file of connections by name, with credentials from the environment or secret files', async () => {
    const dir = await temporaryDirectory('connections-');
    const secret = join(dir, 'ios-secret');
    await writeFile(secret, 'ios-secret-key\n');
    const file = join(dir, 'connections.json');
    await writeFile(
      file,
      JSON.stringify({
        'web-prod': { start_date: '2024-01-01', destination: { type: 's3', bucket: 'lake', prefix: 'web/' } },
        ios: { start_date: '2024-02-01', data_region: 'EU Residency Server' },
      }),
    );
    const connections = await loadConnections(file, {
      AMPLITUDE_WEB_PROD_API_KEY: 'web-key',
      AMPLITUDE_WEB_PROD_SECRET_KEY: 'web-secret',
      AMPLITUDE_IOS_API_KEY: 'ios-key',
      AMPLITUDE_IOS_SECRET_KEY_FILE: secret,
    });
    assert.deepEqual(
      connections.map(({ name, config }) => [name, config.api_key, config.secret_key, config.data_region]),
      [
        ['web-prod', 'web-key', 'web-secret', 'Standard Server'],
        ['ios', 'ios-key', 'ios-secret-key', 'EU Residency Server'],
      ],
    );
    assert.equal(credentialPrefix('web-prod'), 'AMPLITUDE_WEB_PROD_');

    const registry = new ConnectionRegistry(connections, () => {
      throw new Error('no client needed');
    });
    const resolved = registry.resolve('web-prod');
    assert.equal(resolved.settings.connection, 'web-prod');
    assert.deepEqual(resolved.settings.destination, {
      type: 's3',
      bucket: 'lake',
      prefix: 'web/',
      forcePathStyle: false,
    });
    assert.ok(
      !JSON.stringify(resolved).includes('web-secret'),
      'no credential in what goes through Temporal',
    );
    assert.throws(
      () => registry.resolve('android'),
      (error: unknown) =>
        error instanceof ApplicationFailure &&
        error.nonRetryable &&
        /No connection "android".*web-prod, ios/.test(error.message),
    );
    assert.throws(() => registry.resolve(), /serve 2 connections \(web-prod, ios\): name one/);
  });

  it('come from a directory of config files, named after the files', async () => {
    const dir = await temporaryDirectory('connections-dir-');
    await mkdir(join(dir, 'conf'));
    await writeFile(join(dir, 'conf', 'web.json'), JSON.stringify({ start_date: '2024-01-01' }));
    await writeFile(join(dir, 'conf', 'notes.txt'), 'not a connection');
    const [only, ...more] = await loadConnections(join(dir, 'conf'), {
      AMPLITUDE_WEB_API_KEY: 'k',
      AMPLITUDE_WEB_SECRET_KEY: 's',
    });
    assert.deepEqual(more, []);
    assert.equal(only?.name, 'web');
    const registry = new ConnectionRegistry([only!], () => {
      throw new Error('no client needed');
    });
    assert.equal(registry.resolve().name, 'web', 'a worker of one connection needs no name');
  });

  it('name what is missing and where to put it', async () => {
    const dir = await temporaryDirectory('connections-bad-');
    const file = join(dir, 'connections.json');
    await writeFile(file, JSON.stringify({ 'web-prod': { start_date: '2024-01-01' } }));
    await assert.rejects(
      loadConnections(file, { AMPLITUDE_WEB_PROD_API_KEY: 'k' }),
      /connection web-prod: no secret_key: set AMPLITUDE_WEB_PROD_SECRET_KEY \(or AMPLITUDE_WEB_PROD_SECRET_KEY_FILE/,
    );
    await assert.rejects(
      loadConnections(file, {
        AMPLITUDE_WEB_PROD_API_KEY: 'k',
        AMPLITUDE_WEB_PROD_SECRET_KEY_FILE: join(dir, 'nope'),
      }),
      /AMPLITUDE_WEB_PROD_SECRET_KEY_FILE names .*nope, which cannot be read/,
    );
    await writeFile(file, JSON.stringify({ 'web prod': { start_date: '2024-01-01' } }));
    await assert.rejects(loadConnections(file, {}), /"web prod" is not a connection name/);
    await writeFile(file, JSON.stringify({ web: { start_date: 'soon', api_key: 'k', secret_key: 's' } }));
    await assert.rejects(
      loadConnections(file, {}),
      /connection web is invalid.*start_date is not a valid time/s,
    );
    await writeFile(file, '{}');
    await assert.rejects(loadConnections(file, {}), /holds no connection/);
  });
});
