import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeExport, exportPath, get, hour, simulator } from './helpers.ts';

async function cachedFiles(root: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  for (const directory of await readdir(root)) {
    for (const file of await readdir(join(root, directory))) {
      files.set(join(directory, file), (await stat(join(root, directory, file))).mtimeMs);
    }
  }
  return files;
}

describe('export cache directory', () => {
  it('renders each member once to disk and serves the same bytes as live generation', async () => {
    const cacheDir = await mkdtemp(join(tmpdir(), 'simulator-cache-'));
    const options = { eventsPerHour: 300, eventsPerPartition: 200 };
    const live = await simulator(options);
    const cached = await simulator({ ...options, exportCacheDir: cacheDir });
    try {
      const path = exportPath(hour(0, 0), hour(0, 3));
      const expected = (await get(live, path)).body;
      const firstServing = (await get(cached, path)).body;
      assert.ok(firstServing.equals(expected), 'rendering to the cache serves the live bytes');

      const files = await cachedFiles(cacheDir);
      assert.equal(files.size, decodeExport(expected).length);
      assert.ok(
        [...files.keys()].every((file) => file.endsWith('.json.gz')),
        'no temporary file left behind',
      );

      const again = (await get(cached, path)).body;
      assert.ok(again.equals(expected), 'serving from the cache gives the same bytes');
      const anotherProcess = await simulator({ ...options, exportCacheDir: cacheDir });
      try {
        assert.ok((await get(anotherProcess, path)).body.equals(expected));
      } finally {
        await anotherProcess.close();
      }
      assert.deepEqual(await cachedFiles(cacheDir), files, 'files are reused, never rewritten');

      const otherSeed = await simulator({ ...options, seed: 'another', exportCacheDir: cacheDir });
      try {
        assert.ok(!(await get(otherSeed, path)).body.equals(expected), 'a different seed gets its own cache');
      } finally {
        await otherSeed.close();
      }
    } finally {
      await Promise.all([live.close(), cached.close()]);
      await rm(cacheDir, { recursive: true, force: true });
    }
  });
});
