import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { queryObjects } from 'node:v8';
import { HourPartitionWriter } from '../src/destination/hour-partitions.ts';

const HOUR = Date.UTC(2024, 2, 1, 9);

/** Newline-terminated lines of incompressible text, so the compressed output reaches the disk early. */
function lines(bytes: number): Buffer {
  const text = randomBytes(bytes)
    .toString('base64')
    .slice(0, bytes - 1);
  return Buffer.from(`${text}\n`);
}

describe('HourPartitionWriter', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hour-partitions-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('leaves nothing behind for the writes that waited for the compressors', async () => {
    const writer = new HourPartitionWriter({
      stagingPath: (_, part) => join(dir, `waits-${part}`),
      publish: async () => {},
      compression: 'zstd',
    });
    const piece = lines(32 * 1024);
    let waited = 0;
    const write = async (count: number) => {
      for (let i = 0; i < count; i++) {
        let returned = false;
        const written = writer.write(HOUR, piece, 1).then(() => {
          returned = true;
        });
        for (let turn = 0; turn < 5; turn++) await undefined; // a write that does not wait has returned
        if (!returned) waited++;
        await written;
      }
    };
    await write(200); // past the compressors' high mark: from here on, writes wait for them
    const before = queryObjects(Promise, { format: 'count' }) as number;
    waited = 0;
    await write(2000);
    const after = queryObjects(Promise, { format: 'count' }) as number;
    await writer.commit(HOUR);
    assert.ok(waited >= 20, `only ${waited} of 2,000 writes waited for the compressors`);
    // Each wait raced a promise that settles only on a failure, which then held one reaction per wait.
    assert.ok(after - before < 100, `${after - before} promises more after 2,000 writes`);
  });

  for (const directToDisk of [true, false]) {
    it(`fails the writes, instead of waiting forever, when the disk is full (${directToDisk ? 'direct' : 'page cache'})`, {
      timeout: 30_000,
    }, async () => {
      // A staging file that is /dev/full: every write to it fails with ENOSPC.
      const staged = join(dir, `full-${directToDisk}`);
      symlinkSync('/dev/full', staged);
      const writer = new HourPartitionWriter({
        stagingPath: () => staged,
        publish: async () => assert.fail('nothing is published'),
        compression: 'zstd',
        directToDisk,
      });
      const piece = lines(256 * 1024);
      await assert.rejects(async () => {
        for (let i = 0; i < 256; i++) await writer.write(HOUR, piece, 1);
        await writer.commit(HOUR);
      }, /ENOSPC/);
      await writer.abort();
      assert.ok(existsSync('/dev/full'), 'only the staging link is removed');
    });
  }
});
