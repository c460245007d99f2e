import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../src/workflow-bundle.ts';

// Histories of real runs (scripts/record-histories.ts). Replaying them against today's workflow code
// fails when a change would break syncs that are in flight: add a `patched()` branch, or re-record
// once no such run can exist.
const DIR = new URL('./histories/', import.meta.url).pathname;

describe('recorded workflow histories replay against the current workflow code', async () => {
  const files = (await readdir(DIR)).filter((file) => file.endsWith('.json')).sort();

  it('there are recorded histories to replay', () => {
    assert.ok(files.length >= 4, `found ${files.join(', ')}`);
  });

  for (const file of files) {
    it(`replays ${file}`, async () => {
      const { workflowId, history } = JSON.parse(await readFile(join(DIR, file), 'utf8'));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
    });
  }
});
