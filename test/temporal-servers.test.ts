import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { temporalCli, timeSkippingTestServer } from '../src/temporal/binaries.ts';
import { startDevServer, startTimeSkippingServer } from './helpers/temporal.ts';

describe('Temporal binaries', () => {
  it('an explicit path wins over PATH and the project install', () => {
    const resolved = temporalCli({ TEMPORAL_CLI_PATH: '/bin/sh', PATH: '' });
    assert.deepEqual(resolved.executable, { type: 'existing-path', path: '/bin/sh' });
  });

  it('a path that is not an executable is an error, not a silent download', () => {
    assert.throws(() => temporalCli({ TEMPORAL_CLI_PATH: '/nonexistent/temporal' }), /not an executable/);
  });

  it('finds the binaries this machine has without downloading', () => {
    for (const resolved of [temporalCli(), timeSkippingTestServer()]) {
      assert.equal(resolved.executable.type, 'existing-path', resolved.source);
    }
  });
});

describe('Temporal servers start from the resolved binaries', () => {
  it('the dev server answers a system-info call', async () => {
    const env = await startDevServer();
    try {
      const info = await env.client.workflowService.getSystemInfo({});
      assert.ok(info.serverVersion, 'the dev server reports its version');
    } finally {
      await env.teardown();
    }
  });

  it('the time-skipping server skips time', async () => {
    const env = await startTimeSkippingServer();
    try {
      assert.equal(env.supportsTimeSkipping, true);
      const before = await env.currentTimeMs();
      await env.sleep('1 day');
      assert.ok((await env.currentTimeMs()) - before >= 86_400_000);
    } finally {
      await env.teardown();
    }
  });
});
