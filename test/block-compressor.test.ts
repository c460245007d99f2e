import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import { BLOCK_BYTES, BlockCompressor } from '../src/destination/block-compressor.ts';
import { zstd } from '../src/destination/zstd.ts';

/** Text-like bytes that compress, a few blocks' worth, not a multiple of the block size. */
function sample(length: number): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) bytes[i] = ((i * 7919 + (i >> 10)) % 91) + 32;
  return bytes;
}

/** The zstd frames in `bytes`, walked by their headers and block headers (RFC 8878 section 3.1.1). */
function zstdFrames(bytes: Buffer): number {
  let frames = 0;
  let at = 0;
  while (at < bytes.length) {
    assert.equal(bytes.readUInt32LE(at), 0xfd2fb528, `a frame starts at ${at}`);
    const descriptor = bytes[at + 4]!;
    const contentSizeBytes = [descriptor >> 6 === 0 && descriptor & 0x20 ? 1 : 0, 2, 4, 8][descriptor >> 6]!;
    const windowBytes = descriptor & 0x20 ? 0 : 1;
    const dictionaryBytes = [0, 1, 2, 4][descriptor & 3]!;
    at += 5 + windowBytes + dictionaryBytes + contentSizeBytes;
    for (let last = false; !last; ) {
      const header = bytes.readUIntLE(at, 3);
      last = (header & 1) === 1;
      const type = (header >> 1) & 3;
      at += 3 + (type === 1 ? 1 : header >> 3);
    }
    if (descriptor & 4) at += 4; // content checksum
    frames++;
  }
  return frames;
}

/** Writes `input` in pieces of odd sizes, overwriting each piece once the compressor has called back. */
async function compress(codec: 'gzip' | 'zstd', input: Buffer): Promise<Buffer> {
  const compressor = new BlockCompressor(codec);
  const output = buffer(compressor);
  const piece = Buffer.alloc(300_007);
  for (let at = 0; at < input.length; at += piece.length) {
    const length = input.copy(piece, 0, at, at + piece.length);
    await new Promise<void>((done, fail) =>
      compressor.write(piece.subarray(0, length), (error) => (error ? fail(error) : done())),
    );
    piece.fill(0); // the compressor copied what it needs
  }
  compressor.end();
  return output;
}

describe('block compressor', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'block-compressor-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes one gzip member, several blocks long, that gzip and Python read back exactly', async () => {
    const input = sample(3 * BLOCK_BYTES + 12_345);
    const gzipped = await compress('gzip', input);
    // One member: a single header, and the trailer holds the CRC-32 and length of all the input.
    assert.equal(gzipped.indexOf(Buffer.from([0x1f, 0x8b, 8]), 1), -1);
    assert.equal(gzipped.readUInt32LE(gzipped.length - 8), zlib.crc32(input));
    assert.equal(gzipped.readUInt32LE(gzipped.length - 4), input.length);
    const file = join(dir, 'blocks.jsonl.gz');
    await writeFile(file, gzipped);
    assert.ok(execFileSync('gzip', ['-dc', file], { maxBuffer: 64 << 20 }).equals(input), 'gzip -dc');
    const python = 'import gzip, sys; sys.stdout.buffer.write(gzip.open(sys.argv[1]).read())';
    assert.ok(execFileSync('python3', ['-c', python, file], { maxBuffer: 64 << 20 }).equals(input), 'python');
    assert.ok(zlib.gunzipSync(gzipped).equals(input), 'node');
    // Blocks cost little of the ratio against one stream.
    const whole = zlib.gzipSync(input, { level: 1 }).length;
    assert.ok(gzipped.length < whole * 1.02, `${gzipped.length} bytes against ${whole} in one stream`);
  });

  it('writes zstd as one frame a block, read back as one stream', async (t) => {
    if (!zstd.zstdDecompressSync) return t.skip('this Node has no zstd');
    // Compressible, and incompressible (a block's worst case must fit one output piece).
    for (const input of [sample(2 * BLOCK_BYTES + 777), randomBytes(2 * BLOCK_BYTES + 777)]) {
      const compressed = await compress('zstd', input);
      assert.ok(zstd.zstdDecompressSync(compressed).equals(input));
      assert.equal(zstdFrames(compressed), 3);
    }
  });

  it('writes a valid empty gzip file when nothing is written', async () => {
    const gzipped = await buffer(Readable.from([]).pipe(new BlockCompressor('gzip')));
    assert.equal(zlib.gunzipSync(gzipped).length, 0);
    const file = join(dir, 'empty.gz');
    await writeFile(file, gzipped);
    assert.equal(execFileSync('gzip', ['-dc', file]).length, 0);
  });

  it('stops cleanly when destroyed with blocks in flight', async () => {
    const compressor = new BlockCompressor('gzip');
    compressor.resume();
    compressor.write(sample(2 * BLOCK_BYTES + 1));
    const failed = new Promise<Error>((done) => compressor.once('error', done));
    const closed = new Promise((done) => compressor.once('close', done));
    compressor.destroy(new Error('reader gone'));
    assert.equal((await failed).message, 'reader gone');
    await closed;
    // A later compressor still works (the block buffers went back to the pool whole).
    const input = sample(BLOCK_BYTES + 5);
    assert.ok(zlib.gunzipSync(await compress('gzip', input)).equals(input));
  });
});
