import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { constants, existsSync, readFileSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { FLUSH_EVERY, PartitionFile, partitionFileBuffers } from '../src/destination/partition-file.ts';

const MiB = 1024 * 1024;
const einval = () => Object.assign(new Error('EINVAL: invalid argument'), { code: 'EINVAL' });

/** A real file handle with some of its methods replaced. */
function handleWith(
  handle: FileHandle,
  replaced: Partial<Record<'write' | 'datasync', unknown>>,
): FileHandle {
  return new Proxy(handle, {
    get(target, name) {
      if (name in replaced) return replaced[name as keyof typeof replaced];
      const value = Reflect.get(target, name, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Opens as the file system would, refusing O_DIRECT at open. */
const refusingDirect = (path: string, flags: number) =>
  flags & constants.O_DIRECT ? Promise.reject(einval()) : open(path, flags);

/** Writes `bytes` in pieces of varying sizes and ends the file. */
async function writeAll(file: PartitionFile, bytes: Buffer): Promise<void> {
  const sizes = [1, 70_000, 4096, 300_001, 2 * MiB + 3];
  const done = finished(file);
  done.catch(() => {}); // awaited below
  let at = 0;
  for (let i = 0; at < bytes.length && !file.destroyed; i++) {
    const piece = bytes.subarray(at, at + sizes[i % sizes.length]!);
    at += piece.length;
    if (!file.write(piece)) await Promise.race([once(file, 'drain'), done]);
  }
  file.end();
  await done;
}

describe('PartitionFile', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'partition-file-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes exactly the bytes given, with O_DIRECT, whatever their length', async () => {
    for (const length of [0, 1, 4095, 4096, 512 * 1024, 512 * 1024 + 1, 3.5 * MiB + 123]) {
      const path = join(dir, `direct-${length}`);
      const bytes = randomBytes(length);
      const file = new PartitionFile(path);
      await writeAll(file, bytes);
      assert.equal(file.direct, true, 'this file system takes O_DIRECT');
      assert.deepEqual(readFileSync(path), bytes, `${length} bytes`);
    }
  });

  it('writes through the page cache where the file system refuses O_DIRECT at open', async () => {
    const path = join(dir, 'refused-at-open');
    const bytes = randomBytes(1.5 * MiB + 7);
    const file = new PartitionFile(path, { openFile: refusingDirect });
    await writeAll(file, bytes);
    assert.equal(file.direct, false);
    assert.deepEqual(readFileSync(path), bytes);
  });

  it('writes through the page cache where the file system takes O_DIRECT at open but refuses the write', async () => {
    const path = join(dir, 'refused-at-write');
    const bytes = randomBytes(2 * MiB + 5);
    const opened: number[] = [];
    const file = new PartitionFile(path, {
      openFile: async (at, flags) => {
        opened.push(flags);
        const handle = await open(at, flags & ~constants.O_DIRECT);
        return flags & constants.O_DIRECT
          ? handleWith(handle, { write: () => Promise.reject(einval()) })
          : handle;
      },
    });
    await writeAll(file, bytes);
    assert.equal(file.direct, false);
    assert.equal(opened.length, 2, 'opened again without O_DIRECT');
    assert.deepEqual(readFileSync(path), bytes);
  });

  it('through the page cache, flushes to disk every 64 MiB as it goes', async () => {
    const path = join(dir, 'flushed');
    let flushes = 0;
    const file = new PartitionFile(path, {
      openFile: async (at, flags) => {
        const handle = await refusingDirect(at, flags);
        return handleWith(handle, {
          datasync: () => {
            flushes++;
            return handle.datasync();
          },
        });
      },
    });
    await writeAll(file, Buffer.alloc(3 * FLUSH_EVERY + MiB, 0x61));
    assert.equal(flushes, 3, 'a flush at 64, 128 and 192 MiB');
  });

  it('fails the file when a flush fails: Linux reports a write-back error only once', async () => {
    const path = join(dir, 'flush-fails');
    const file = new PartitionFile(path, {
      openFile: async (at, flags) =>
        handleWith(await refusingDirect(at, flags), {
          datasync: () =>
            Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
        }),
    });
    await assert.rejects(writeAll(file, Buffer.alloc(FLUSH_EVERY + MiB, 0x62)), /EIO: i\/o error, fdatasync/);
  });

  it('fails with the disk error of a direct write, and closes the file when destroyed mid-write', async () => {
    const path = join(dir, 'write-fails');
    let closed = 0;
    const file = new PartitionFile(path, {
      openFile: async (at, flags) => {
        const handle = await open(at, flags);
        let writes = 0;
        return handleWith(handle, {
          write: (...args: Parameters<FileHandle['write']>) =>
            ++writes === 3
              ? Promise.reject(
                  Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }),
                )
              : handle.write(...args),
          close: () => {
            closed++;
            return handle.close();
          },
        } as never);
      },
    });
    await assert.rejects(writeAll(file, randomBytes(4 * MiB)), /ENOSPC/);
    await new Promise((done) => setImmediate(done));
    assert.equal(closed, 1, 'closed once');
    const again = join(dir, 'after-failure');
    const bytes = randomBytes(MiB + 1);
    await writeAll(new PartitionFile(again), bytes);
    assert.deepEqual(readFileSync(again), bytes, 'buffers are reused cleanly after a failed file');
  });

  it('keeps a bounded pool of buffers once many files written at once have closed', async () => {
    const bytes = randomBytes(3 * 512 * 1024 + 11);
    const files = Array.from({ length: 40 }, (_, i) => new PartitionFile(join(dir, `many-${i}`)));
    await Promise.all(files.map((file) => writeAll(file, bytes)));
    for (let i = 0; i < files.length; i++) assert.deepEqual(readFileSync(join(dir, `many-${i}`)), bytes);
    const { spare, memories } = partitionFileBuffers();
    assert.ok(spare <= 16 + 8, `spare buffers after all closed: ${spare}`);
    assert.ok(memories <= 3, `memories held after all closed: ${memories}`);
    assert.equal(spare, memories * 8, 'every held memory is whole again: no buffer lost');
  });

  it('on a slow disk, keeps two writes in the kernel at once (libuv threads), after a first write done alone', async () => {
    const path = join(dir, 'slow-disk');
    const bytes = randomBytes(6 * MiB + 99);
    let underWay = 0;
    let most = 0;
    const started: number[] = [];
    const file = new PartitionFile(path, {
      openFile: async (at, flags) => {
        const handle = await open(at, flags);
        return handleWith(handle, {
          write: async (...args: Parameters<FileHandle['write']>) => {
            started.push(underWay);
            most = Math.max(most, ++underWay);
            await new Promise((done) => setTimeout(done, 5));
            try {
              return await handle.write(...args);
            } finally {
              underWay--;
            }
          },
        } as never);
      },
    });
    await writeAll(file, bytes);
    assert.deepEqual(readFileSync(path), bytes);
    assert.equal(started[0], 0, 'the first write starts alone');
    assert.equal(started[1], 0, 'and ends before the second starts');
    assert.equal(most, 2, 'two writes in the kernel at most');
  });

  it('destroyed while a refused first write opens the file again: every handle is closed, and the file stays removed', async () => {
    const path = join(dir, 'destroyed-in-fallback');
    let opened = 0;
    let closed = 0;
    let reopening: (() => void) | undefined;
    const file = new PartitionFile(path, {
      openFile: async (at, flags) => {
        opened++;
        if (!(flags & constants.O_DIRECT)) await new Promise<void>((resume) => (reopening = resume));
        const handle = await open(at, flags & ~constants.O_DIRECT);
        return handleWith(handle, {
          ...(flags & constants.O_DIRECT ? { write: () => Promise.reject(einval()) } : {}),
          close: () => {
            closed++;
            return handle.close();
          },
        } as never);
      },
    });
    file.on('error', () => {});
    file.end(randomBytes(1000));
    while (!reopening) await new Promise((done) => setImmediate(done));
    file.destroy();
    const closedEvent = new Promise((done) => file.once('close', done));
    reopening();
    await closedEvent;
    await rm(path, { force: true });
    await new Promise((done) => setTimeout(done, 50));
    assert.equal(opened, 2);
    assert.equal(closed, 2, 'the handle of the second open is closed too');
    assert.ok(!existsSync(path), 'nothing opens the file again once it is closed');
  });
});
