import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { STANDARD_AUTH } from './helpers.ts';

const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

describe('standalone simulator', () => {
  it('prints its URLs and credentials, serves requests, and exits on SIGTERM', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'src/simulator/main.ts', '--port', '0', '--days', '1', '--events-per-hour', '5'],
      { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      let output = '';
      for await (const chunk of child.stdout) {
        output += chunk;
        if (output.includes('Ctrl+C')) break;
      }
      assert.match(output, /api_key=std-key secret_key=std-secret/);
      assert.match(output, /api_key=eu-key secret_key=eu-secret/);
      const standardUrl = /standard: (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1];
      assert.ok(standardUrl, output);
      const response = await request(`${standardUrl}/api/2/events/list`, {
        headers: { authorization: STANDARD_AUTH },
      });
      assert.equal(response.statusCode, 200);
      assert.ok(Array.isArray(((await response.body.json()) as { data: unknown[] }).data));

      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      assert.equal(code, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
