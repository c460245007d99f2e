import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createWriteStream, fdatasync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { BackgroundFlush } from '../src/destination/files.ts';

const MiB = 1024 * 1024;

describe('BackgroundFlush', () => {
  it('flushes a file being written every 64 MiB, none once stopped, and stop waits for the one under way', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'background-flush-'));
    try {
      const path = join(dir, 'part');
      const file = createWriteStream(path);
      const flushed: number[] = [];
      let underWay = 0;
      const flush = new BackgroundFlush(file, ((fd: number, done: (error: Error | null) => void) => {
        underWay++;
        fdatasync(fd, (error) => {
          flushed.push(fd);
          underWay--;
          done(error);
        });
      }) as typeof fdatasync);
      await once(file, 'open');
      const block = Buffer.alloc(MiB, 0x61);
      for (let i = 0; i < 200; i++) {
        if (!file.write(block)) await once(file, 'drain');
        flush.wrote(block.length);
      }
      await flush.stop();
      assert.equal(underWay, 0, 'stop resolved while a flush was under way');
      assert.equal(flushed.length, 3, '200 MiB written: a flush at 64, 128 and 192 MiB');
      for (let i = 0; i < 100; i++) flush.wrote(block.length);
      file.end();
      await once(file, 'close');
      assert.equal(flushed.length, 3, 'no flush after stop');
      assert.equal(readFileSync(path).length, 200 * MiB);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('throws the error of a failed flush from stop(): Linux reports a write-back error only once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'background-flush-'));
    try {
      const file = createWriteStream(join(dir, 'part'));
      const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
      const failing = ((_fd: number, done: (error: Error | null) => void) => {
        setImmediate(() => done(eio));
      }) as typeof fdatasync;
      const flush = new BackgroundFlush(file, failing);
      await once(file, 'open');
      flush.wrote(64 * MiB);
      await assert.rejects(flush.stop(), /EIO: i\/o error, fdatasync/);
      file.end();
      await once(file, 'close');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
