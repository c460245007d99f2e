// Worker thread of normaliser-thread.ts: gunzips export members and normalises their events, so the
// main thread only moves compressed bytes. Compressed input goes to zlib (libuv's thread pool) as soon
// as it arrives; decompressed chunks are normalised here while zlib works on the next ones.
import { parentPort } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import { BufferCollector } from './buffer-collector.ts';
import { type HourLines, normaliseEvents, reuseOutputBuffer } from './event-record.ts';
import { type LineBatch, LineSplitter } from './export-decoder.ts';

/** `stream` tells the members in flight apart: each member handed over has its own. */
export type WorkerRequest =
  | { id: number; stream: number; type: 'member' }
  | { id: number; stream: number; type: 'data'; bytes: Uint8Array }
  | { id: number; stream: number; type: 'end' }
  /** Output buffers the main thread has written, back for reuse; no reply. */
  | { id: number; stream: number; type: 'recycle'; buffers: ArrayBuffer[] }
  /** The member's reader gave up; no reply. */
  | { id: number; stream: number; type: 'cancel' };

export type WorkerReply =
  | {
      id: number;
      hours: Array<[hour: number, bytes: Uint8Array, records: number]>;
      /** The request's input, consumed, back to the main thread for reuse. */
      input?: ArrayBuffer;
    }
  | { id: number; error: { name: string; message: string } };

/**
 * Decompressed bytes per chunk, and so per normalised output buffer. 256 KiB against 1 MiB: the
 * worker's peak RSS 10-20 MB lower on both shapes of bench/worker-sync.bench.ts, speed within its noise.
 */
const GUNZIP_CHUNK = 256 * 1024;

const collector = new BufferCollector({ major: 32 * 1024 * 1024, minor: 4 * 1024 * 1024 });

/** A request waits for its reply until the chunks zlib produced before it are normalised. */
interface Waiting {
  id: number;
  /** How many decompressed chunks must be normalised first; undefined until zlib has consumed the input. */
  after?: number;
  input?: ArrayBuffer;
}

class MemberReader {
  readonly #gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  readonly #splitter = new LineSplitter();
  readonly #decompressed: Buffer[] = [];
  readonly #normalised: Map<number, HourLines>[] = [];
  readonly #waiting: Waiting[] = [];
  #received = 0;
  #done = 0;
  #scheduled = false;
  #failure: Error | undefined;

  constructor() {
    this.#gunzip.on('data', (chunk: Buffer) => {
      this.#decompressed.push(chunk);
      collector.spent(chunk.length);
      this.#received++;
      this.#schedule();
    });
    this.#gunzip.on('error', (error) => this.#fail(error));
  }

  data(id: number, bytes: Buffer): void {
    if (this.#failure) {
      fail(id, this.#failure);
      return;
    }
    const waiting: Waiting = { id };
    this.#waiting.push(waiting);
    this.#gunzip.write(bytes, () => {
      waiting.input = bytes.buffer as ArrayBuffer;
      waiting.after = this.#received;
      this.#schedule();
    });
  }

  end(id: number): void {
    if (this.#failure) {
      fail(id, this.#failure);
      return;
    }
    const waiting: Waiting = { id };
    this.#waiting.push(waiting);
    this.#gunzip.once('end', () => {
      waiting.after = this.#received;
      this.#schedule();
    });
    this.#gunzip.end();
  }

  destroy(): void {
    this.#gunzip.destroy();
  }

  #schedule(): void {
    if (this.#scheduled || this.#failure) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      try {
        this.#work();
      } catch (error) {
        this.#fail(error as Error);
      }
    });
  }

  #work(): void {
    while (this.#decompressed.length > 0) {
      this.#add(this.#splitter.push(this.#decompressed.shift()!));
      this.#done++;
    }
    while (this.#waiting[0]?.after !== undefined && this.#waiting[0].after <= this.#done) {
      const { id, input } = this.#waiting.shift()!;
      if (this.#waiting.length === 0 && this.#gunzip.readableEnded) this.#add(this.#splitter.end());
      reply(id, this.#normalised.splice(0), input);
    }
  }

  #add(batches: LineBatch[]): void {
    for (const batch of batches) this.#normalised.push(normaliseEvents(batch));
  }

  #fail(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const { id } of this.#waiting.splice(0)) fail(id, error);
    this.#gunzip.destroy();
  }
}

function reply(id: number, normalised: Map<number, HourLines>[], input?: ArrayBuffer): void {
  const hours: Array<[number, Uint8Array, number]> = [];
  const transfer: ArrayBuffer[] = input ? [input] : [];
  for (const map of normalised) {
    for (const [hour, lines] of map) {
      hours.push([hour, lines.bytes, lines.records]);
      transfer.push(lines.bytes.buffer as ArrayBuffer);
    }
  }
  parentPort!.postMessage({ id, hours, ...(input ? { input } : {}) } satisfies WorkerReply, transfer);
}

function fail(id: number, error: Error): void {
  parentPort!.postMessage({ id, error: { name: error.name, message: error.message } } satisfies WorkerReply);
}

const members = new Map<number, MemberReader>();

parentPort!.on('message', (request: WorkerRequest) => {
  if (request.type === 'recycle') {
    for (const buffer of request.buffers) reuseOutputBuffer(buffer);
    return;
  }
  const member = members.get(request.stream);
  if (request.type === 'cancel') {
    member?.destroy();
    members.delete(request.stream);
  } else if (request.type === 'member') {
    member?.destroy();
    members.set(request.stream, new MemberReader());
    reply(request.id, []);
  } else if (!member) {
    fail(request.id, new Error('export data arrived before its member'));
  } else if (request.type === 'data') {
    member.data(
      request.id,
      Buffer.from(request.bytes.buffer, request.bytes.byteOffset, request.bytes.byteLength),
    );
  } else {
    members.delete(request.stream);
    member.end(request.id);
  }
});
