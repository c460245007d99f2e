import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runInNewContext } from 'node:vm';
import { BufferCollector } from '../src/amplitude/buffer-collector.ts';

const MiB = 1024 * 1024;

/** Polls until the buffer behind `ref` is gone, for at most `ms`; true if it went. */
async function collectedWithin(ref: WeakRef<ArrayBuffer>, ms: number): Promise<boolean> {
  for (const deadline = Date.now() + ms; Date.now() < deadline; await sleep(10)) {
    if (ref.deref() === undefined) return true;
  }
  return ref.deref() === undefined;
}

/** A buffer that has outlived young-generation collections, so that only a full collection frees it. */
function oldBuffer(): WeakRef<ArrayBuffer> {
  const buffer = new ArrayBuffer(MiB);
  let garbage: object[] = [];
  for (let i = 0; i < 2_000_000; i++) garbage.push({ i });
  garbage = [];
  return new WeakRef(buffer);
}

describe('BufferCollector', () => {
  it('has a dropped buffer collected once 32 MiB were spent, and not before', async () => {
    const collector = new BufferCollector({ major: 32 * MiB });
    const ref = oldBuffer();
    collector.spent(31 * MiB);
    assert.equal(await collectedWithin(ref, 300), false, 'collected before the threshold');
    collector.spent(MiB);
    assert.equal(await collectedWithin(ref, 3_000), true, 'not collected after the threshold');
  });

  it('frees young buffers with a young-generation collection every `minor` bytes', async () => {
    // V8's young-generation collections hold WeakRef targets strongly: this test counts buffer memory.
    const collector = new BufferCollector({ major: 1024 * MiB, minor: 4 * MiB });
    const held = () => process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 8; i++) new Uint8Array(MiB).fill(1);
    await sleep(10);
    const before = held();
    collector.spent(3 * MiB);
    await sleep(10);
    assert.ok(held() > before - MiB, `freed before the threshold: ${before} -> ${held()} bytes`);
    collector.spent(MiB);
    await sleep(10);
    assert.ok(held() < before - 7 * MiB, `not freed after the threshold: ${before} -> ${held()} bytes`);
  });

  it('leaves gc unexposed to the contexts made after it', () => {
    new BufferCollector({ major: MiB }).spent(MiB);
    assert.equal(runInNewContext('typeof gc'), 'undefined');
    assert.equal(typeof (globalThis as { gc?: unknown }).gc, 'undefined');
  });
});
