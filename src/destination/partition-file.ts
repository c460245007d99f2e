// A local partition's file as it is written: from our own page-aligned buffers straight to the disk
// (O_DIRECT), not through the page cache. Copying into page-cache pages cost this VM's kernel ~1.4
// s of CPU per GB written (memory the hypervisor takes back when it is freed, paid again on first
// touch), a tenth of the whole machine during a sync of poorly compressible events; a direct write
// costs ~0.17 s per GB. A file system that refuses O_DIRECT (tmpfs, some network and overlay file
// systems) gets the same buffers written through the page cache, flushed to disk every FLUSH_EVERY
// bytes as it goes, so that the fsync that publishes the file finds little left to write.
import { constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { ConcurrencyLimit } from '../concurrency-limit.ts';

/**
 * Bytes a write hands to the kernel; a multiple of every block size O_DIRECT may require. Each open
 * file holds one, and one more for each of its writes under way. Direct writes of 512 KiB cost 0.17 s
 * of CPU per GB here, of 1 MiB 0.11, of 256 KiB 0.24 (`dd oflag=direct`).
 */
const BUFFER_BYTES = 512 * 1024;
/** Writes of one file handed over at once (each holds its buffer). */
const WRITES_IN_FLIGHT = 4;
/**
 * Writes in the kernel at once, across the process: each holds one of libuv's threads (four by
 * default, which zlib also needs) for as long as the disk takes.
 */
const diskWrites = new ConcurrencyLimit(2);
/** Alignment of a direct write's memory, length and position (the page size, at least the disk's block). */
const ALIGNMENT = 4096;
/** Bytes written through the page cache between two background flushes. */
export const FLUSH_EVERY = 64 * 1024 * 1024;

/**
 * Page-aligned buffers, reused. Node's buffers are not aligned; WebAssembly memory starts on a page.
 * Memories are never grown (growing would detach the buffers already handed out): more are made, and
 * a memory whose buffers are all back is let go while MAX_SPARE_BUFFERS others are spare.
 */
const spareBuffers: Buffer[] = [];
/** Each memory's buffers that are spare, by the memory's ArrayBuffer (every buffer's `.buffer`). */
const sparesOf = new Map<ArrayBufferLike, number>();
// Node's types, without the DOM library, do not declare WebAssembly: what this module uses of it.
declare const WebAssembly: {
  Memory: new (size: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
};
const BUFFERS_PER_MEMORY = 8;
const MAX_SPARE_BUFFERS = 2 * BUFFERS_PER_MEMORY;
const WASM_PAGE = 64 * 1024;

function takeBuffer(): Buffer {
  if (spareBuffers.length === 0) {
    const pages = (BUFFERS_PER_MEMORY * BUFFER_BYTES) / WASM_PAGE;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    for (let i = BUFFERS_PER_MEMORY - 1; i >= 0; i--) {
      spareBuffers.push(Buffer.from(memory.buffer, i * BUFFER_BYTES, BUFFER_BYTES));
    }
    sparesOf.set(memory.buffer, BUFFERS_PER_MEMORY);
  }
  const buffer = spareBuffers.pop()!;
  sparesOf.set(buffer.buffer, sparesOf.get(buffer.buffer)! - 1);
  return buffer;
}

function giveBuffer(buffer: Buffer): void {
  spareBuffers.push(buffer);
  const spares = sparesOf.get(buffer.buffer)! + 1;
  sparesOf.set(buffer.buffer, spares);
  if (spares < BUFFERS_PER_MEMORY || spareBuffers.length <= MAX_SPARE_BUFFERS) return;
  sparesOf.delete(buffer.buffer);
  const kept = spareBuffers.filter((spare) => spare.buffer !== buffer.buffer);
  spareBuffers.splice(0, spareBuffers.length, ...kept);
}

/** The buffer pool as it stands (tests): spare buffers, and memories held. */
export function partitionFileBuffers(): { spare: number; memories: number } {
  return { spare: spareBuffers.length, memories: sparesOf.size };
}

const WRITE_ONLY = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC;

export interface PartitionFileOptions {
  /** Opens the file (tests: a file system that refuses O_DIRECT, a flush that fails). */
  openFile?: (path: string, flags: number) => Promise<FileHandle>;
}

/** Whether an error says the file system or the memory does not suit direct I/O. */
const refusesDirect = (error: unknown) => (error as NodeJS.ErrnoException).code === 'EINVAL';

export class PartitionFile extends Writable {
  readonly path: string;
  #handle: FileHandle | undefined;
  #direct = true;
  /** The buffer being filled, and how much of it is. */
  #buffer: Buffer | undefined;
  #filled = 0;
  /** Bytes handed to the kernel so far: where the next write goes. */
  #position = 0;
  /**
   * Writes under way, oldest first, while the next buffer fills: several at once, so that a disk's
   * latency (network block storage: a millisecond or more a write) does not bound the speed.
   */
  readonly #writes: Array<Promise<void>> = [];
  /** The first write, done alone: it tells whether the file system takes O_DIRECT. */
  #firstWrite: Promise<void> | undefined;
  #unflushed = 0;
  #flushing: Promise<void> = Promise.resolve();
  #flushFailure: Error | undefined;

  readonly #open: (flags: number) => Promise<FileHandle>;

  constructor(path: string, options: PartitionFileOptions = {}) {
    super({ highWaterMark: BUFFER_BYTES });
    this.path = path;
    const openFile = options.openFile ?? ((at: string, flags: number) => open(at, flags, 0o666));
    this.#open = (flags) => openFile(path, flags);
  }

  /** Whether the file is written with O_DIRECT (false once the file system refused it). */
  get direct(): boolean {
    return this.#direct;
  }

  override _construct(callback: (error?: Error | null) => void): void {
    this.#open(WRITE_ONLY | constants.O_DIRECT)
      .catch((error: unknown) => {
        if (!refusesDirect(error)) throw error;
        this.#direct = false;
        return this.#open(WRITE_ONLY);
      })
      .then((handle) => {
        this.#handle = handle;
        callback();
      }, callback);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#take(chunk).then(() => callback(), callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finish().then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    Promise.allSettled([...this.#writes, this.#flushing])
      .then(() => {
        // Taken once the write under way is over: a first write refused O_DIRECT reopens the file.
        const handle = this.#handle;
        this.#handle = undefined;
        return handle?.close();
      })
      .then(
        () => callback(error),
        (closeError: Error) => callback(error ?? closeError),
      )
      .finally(() => this.#release());
  }

  async #take(chunk: Buffer): Promise<void> {
    let at = 0;
    while (at < chunk.length && !this.destroyed) {
      this.#buffer ??= takeBuffer();
      const copied = chunk.copy(this.#buffer, this.#filled, at);
      this.#filled += copied;
      at += copied;
      if (this.#filled === BUFFER_BYTES) await this.#writeBuffer();
    }
  }

  /** Hands the filled buffer to the kernel once there is room among the writes under way. */
  async #writeBuffer(): Promise<void> {
    if (this.#firstWrite) await this.#firstWrite;
    while (this.#writes.length >= WRITES_IN_FLIGHT) await this.#oldestWrite();
    if (this.destroyed) return; // its buffer goes back with the file's
    const buffer = this.#buffer!;
    const length = this.#filled;
    this.#buffer = undefined;
    this.#filled = 0;
    const position = this.#position;
    this.#position += length;
    const write = this.#writeAt(buffer, length, position).finally(() => giveBuffer(buffer));
    write.catch(() => {}); // thrown by a later write, or at the end
    this.#writes.push(write);
    this.#firstWrite ??= write;
  }

  async #writeAt(buffer: Buffer, length: number, position: number): Promise<void> {
    // A direct write covers whole blocks: the last one is padded, and the file cut back afterwards.
    const span = this.#direct ? Math.ceil(length / ALIGNMENT) * ALIGNMENT : length;
    buffer.fill(0, length, span);
    let written: number;
    try {
      ({ bytesWritten: written } = await diskWrites.run(() =>
        this.#handle!.write(buffer, 0, span, position),
      ));
    } catch (error) {
      if (!(this.#direct && position === 0 && refusesDirect(error))) throw error;
      // The file system took O_DIRECT at open but not the write: the file is still empty.
      await this.#handle!.close();
      this.#handle = await this.#open(WRITE_ONLY);
      this.#direct = false;
      if (this.destroyed) throw new Error(`${this.path} was destroyed`); // _destroy closes the new handle
      return this.#writeAt(buffer, length, position);
    }
    if (written !== span)
      throw new Error(`short write to ${this.path}: ${written} of ${span} bytes (disk full?)`);
    if (!this.#direct) this.#flushInBackground(length);
  }

  /** Through the page cache: a data flush every FLUSH_EVERY bytes, its error kept for the end. */
  #flushInBackground(bytes: number): void {
    this.#unflushed += bytes;
    if (this.#unflushed < FLUSH_EVERY) return;
    this.#unflushed = 0;
    const handle = this.#handle!;
    // Linux reports a write-back error once, to the first sync that sees it: the fsync that publishes
    // the file (another descriptor) would not, so it is thrown when the file ends.
    this.#flushing = this.#flushing.then(() =>
      handle.datasync().catch((error: Error) => {
        this.#flushFailure ??= error;
      }),
    );
  }

  async #finish(): Promise<void> {
    if (this.#filled > 0) await this.#writeBuffer();
    while (this.#writes.length > 0) await this.#oldestWrite();
    await this.#flushing;
    if (this.#flushFailure) throw this.#flushFailure;
    const handle = this.#handle!;
    if (this.#direct && this.#position % ALIGNMENT !== 0) await handle.truncate(this.#position);
    this.#handle = undefined;
    await handle.close();
  }

  /** Waits for the oldest write, and only then forgets it: `_destroy` waits for every write not yet done. */
  async #oldestWrite(): Promise<void> {
    await this.#writes[0];
    this.#writes.shift();
  }

  #release(): void {
    if (this.#buffer) giveBuffer(this.#buffer);
    this.#buffer = undefined;
  }
}
