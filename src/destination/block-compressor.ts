// Compression of one partition on several of libuv's threads at once: one deflate stream runs on one
// core at 90-260 MB/s on export data, slower than the rest of the export path.
//
// The input is cut into blocks, and each block is compressed whole by one of a few long-lived native
// streams (a new stream per block makes V8 collect the whole heap several times a second), ending
// with a flush that makes it independent of everything before it:
// - gzip: one member, as every reader expects: a header, each block raw-deflated and ended with a full
//   flush (byte-aligned, no reference to earlier blocks), an empty final block, and the trailer (the
//   CRC-32 of all the input, and its length). The same technique as pigz.
// - zstd: each block a frame; concatenated frames are one stream (RFC 8878 section 3.1).
import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { zstd, zstdLevelOne } from './zstd.ts';

/** Uncompressed bytes in a block: blocks of 1 MiB lose under 1% of the ratio (bench/codecs.bench.ts). */
export const BLOCK_BYTES = 1024 * 1024;
/** Blocks of one partition compressing at once; libuv's other threads read and write files. */
const BLOCKS_IN_FLIGHT = 2;
/** Compressed output is gathered in pieces of this size. */
const OUTPUT_PIECE = 256 * 1024;

/** A codec's long-lived stream, and the flush that ends a block. */
interface BlockCodec {
  stream(): Transform;
  endOfBlock: number;
  /** Bytes before the first block, and after the last given the CRC-32 and length of all the input. */
  header?: Buffer;
  trailer?(crc: number, length: number): Buffer;
}

/** ID1 ID2, deflate, no flags, no time, "fastest" (level 1), Unix (RFC 1952 section 2.3). */
const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3]);
/** A final fixed-Huffman block holding only its end code. */
const EMPTY_FINAL_BLOCK = Buffer.from([3, 0]);

const CODECS: Record<'gzip' | 'zstd', BlockCodec> = {
  gzip: {
    // memLevel 9 (zlib's largest hash table) against the default 8: 3-7% faster on typical events and
    // 22% on poorly compressible ones, output a little smaller (bench/codecs.bench.ts).
    stream: () => zlib.createDeflateRaw({ level: 1, memLevel: 9, chunkSize: OUTPUT_PIECE }),
    endOfBlock: zlib.constants.Z_FULL_FLUSH,
    header: GZIP_HEADER,
    trailer(crc, length) {
      const trailer = Buffer.alloc(EMPTY_FINAL_BLOCK.length + 8);
      EMPTY_FINAL_BLOCK.copy(trailer);
      trailer.writeUInt32LE(crc >>> 0, EMPTY_FINAL_BLOCK.length);
      trailer.writeUInt32LE(length % 2 ** 32, EMPTY_FINAL_BLOCK.length + 4);
      return trailer;
    },
  },
  zstd: {
    stream: () => zstd.createZstdCompress!({ chunkSize: OUTPUT_PIECE, params: zstdLevelOne() }),
    endOfBlock: zstd.constants.ZSTD_e_end!,
  },
};

type FlushableStream = Transform & { flush(kind: number, done: () => void): void };

/** One long-lived stream, compressing one block at a time. */
class BlockSlot {
  readonly #stream: FlushableStream;
  readonly #endOfBlock: number;
  #pieces: Buffer[] = [];
  #failure: Error | undefined;
  #rejectBlock: ((error: Error) => void) | undefined;

  constructor(codec: BlockCodec) {
    this.#stream = codec.stream() as FlushableStream;
    this.#endOfBlock = codec.endOfBlock;
    this.#stream.on('data', (piece: Buffer) => this.#pieces.push(piece));
    this.#stream.on('error', (error) => {
      this.#failure ??= error;
      this.#rejectBlock?.(error);
    });
  }

  /** The block's compressed bytes, in the pieces the stream produced (joining them would copy). */
  compress(block: Buffer): Promise<Buffer[]> {
    return new Promise((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      this.#rejectBlock = reject;
      this.#stream.write(block);
      this.#stream.flush(this.#endOfBlock, () => {
        this.#rejectBlock = undefined;
        // The stream emits what it produced before it calls back: the block is complete.
        if (this.#failure || this.#stream.readableLength > 0) {
          reject(this.#failure ?? new Error('the compressor held output back'));
          return;
        }
        resolve(this.#pieces);
        this.#pieces = [];
      });
    });
  }

  destroy(): void {
    this.#stream.destroy();
  }
}

/** Block buffers back from compression, for the next block. */
const spareBlocks: Buffer[] = [];
const MAX_SPARE_BLOCKS = 4;

/** Compresses what is written in blocks, BLOCKS_IN_FLIGHT at once, and emits the output in order. */
export class BlockCompressor extends Transform {
  readonly #codec: BlockCodec;
  readonly #slots: BlockSlot[] = [];
  /** The block being filled: input is copied in, so a writer may reuse its buffer once called back. */
  #block: Buffer | undefined;
  #filled = 0;
  #blocks = 0;
  #crc = 0;
  #length = 0;
  readonly #inFlight: Array<Promise<Buffer[]>> = [];

  constructor(codec: 'gzip' | 'zstd') {
    super();
    this.#codec = CODECS[codec];
    if (this.#codec.header) this.push(this.#codec.header);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    const finish = async () => {
      if (this.#filled > 0) await this.#dispatch();
      await this.#emitUntil(0);
      if (this.#codec.trailer) this.push(this.#codec.trailer(this.#crc, this.#length));
      this.#close();
    };
    finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#close();
    callback(error);
  }

  async #take(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length) {
      this.#block ??= spareBlocks.pop() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);
      const copied = chunk.copy(this.#block, this.#filled, at);
      this.#filled += copied;
      at += copied;
      if (this.#filled === BLOCK_BYTES) await this.#dispatch();
    }
  }

  /** Hands the filled block to its slot once the slot is free. */
  async #dispatch(): Promise<void> {
    await this.#emitUntil(BLOCKS_IN_FLIGHT - 1);
    const block = this.#block!;
    const bytes = block.subarray(0, this.#filled);
    this.#block = undefined;
    this.#filled = 0;
    if (this.#codec.trailer) this.#crc = zlib.crc32(bytes, this.#crc);
    this.#length += bytes.length;
    const index = this.#blocks++ % BLOCKS_IN_FLIGHT;
    this.#slots[index] ??= new BlockSlot(this.#codec);
    const compressed = this.#slots[index].compress(bytes);
    compressed.then(
      () => {
        if (spareBlocks.length < MAX_SPARE_BLOCKS) spareBlocks.push(block);
      },
      () => {}, // awaited, in order, by #emitUntil
    );
    this.#inFlight.push(compressed);
  }

  /** Pushes finished blocks, oldest first, until at most `left` are in flight. */
  async #emitUntil(left: number): Promise<void> {
    while (this.#inFlight.length > left) {
      for (const piece of await this.#inFlight.shift()!) this.push(piece);
    }
  }

  #close(): void {
    for (const slot of this.#slots) slot.destroy();
    this.#slots.length = 0;
    if (this.#block && spareBlocks.length < MAX_SPARE_BLOCKS) spareBlocks.push(this.#block);
    this.#block = undefined;
  }
}
