// Export decoding and event normalisation on worker threads: the main thread reads the HTTP body and
// the zip and hands each member's compressed bytes over; a worker gunzips (on libuv's thread pool)
// and normalises, so parsing never waits behind the main thread's I/O or its garbage collection.
// A small pool of workers, shared by concurrent exports, each started on first use and never keeping
// the process alive; an export hands its next member to another worker while the reader is still on
// the current one, and gets the outputs back in archive order.
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BufferCollector } from './buffer-collector.ts';
import { EventRecordError, type HourLines } from './event-record.ts';
import { isEventMember, type MemberStart, memberStart } from './export-decoder.ts';
import type { WorkerReply, WorkerRequest } from './normaliser-worker.ts';
import { SpareBuffers } from './spare-buffers.ts';
import { ZipFormatError, zipMembers } from './zip-stream.ts';

/**
 * Normalised lines in archive order; an hour can appear more than once. Call `written()` once the
 * bytes are no longer needed: the memory goes back to the worker for reuse.
 */
export type HourOutputs = Array<HourLines & { hour: number; written(): void }>;
type Hours = HourOutputs;
type Pending = { stream: number; resolve(hours: Hours): void; reject(error: Error): void };
/** The requests that get a reply. */
type Request =
  Exclude<WorkerRequest, { type: 'recycle' | 'cancel' }> extends infer R
    ? R extends unknown
      ? Omit<R, 'id'>
      : never
    : never;

class NormaliserThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #dead: Error | undefined;
  #nextId = 0;
  nextStream = 0;

  constructor() {
    // Parsed events die young: a small young generation keeps the worker's memory small at little cost.
    const resourceLimits = { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB };
    if (import.meta.url.endsWith('.js')) {
      this.#worker = new Worker(new URL('./normaliser-worker.js', import.meta.url), { resourceLimits });
    } else {
      // From the TypeScript sources: tsx's in-thread require hook (found from here, wherever the
      // command runs), which unlike tsx's ESM loader starts no loader thread of its own.
      const tsx = JSON.stringify(fileURLToPath(import.meta.resolve('tsx/cjs/api')));
      const entry = JSON.stringify(fileURLToPath(new URL('./normaliser-worker.ts', import.meta.url)));
      this.#worker = new Worker(`require(${tsx}).register(); require(${entry});`, {
        eval: true,
        resourceLimits,
      });
    }
    this.#worker.on('message', (reply: WorkerReply) => this.#settle(reply));
    this.#worker.on('error', (error) => this.#failAll(error));
    this.#worker.on('exit', (code) =>
      this.#failAll(new Error(`the normaliser thread exited (code ${code})`)),
    );
    // Last: unref'd before its listeners were added, a thread that had had no request yet kept the
    // process alive (a test's process did not end once the worker started its threads in advance).
    this.#worker.unref();
  }

  /** Hands an output buffer back to the worker once it has been written. */
  recycle(bytes: Buffer): void {
    if (this.#dead) return;
    const memory = bytes.buffer as ArrayBuffer;
    this.#worker.postMessage(
      { id: -1, stream: -1, type: 'recycle', buffers: [memory] } satisfies WorkerRequest,
      [memory],
    );
  }

  /** Requests awaiting their reply. */
  get load(): number {
    return this.#pending.size;
  }

  /** Drops a member that its reader abandoned (an error, a cancelled attempt); its requests get no reply. */
  cancel(stream: number): void {
    for (const [id, pending] of this.#pending) {
      if (pending.stream !== stream) continue;
      this.#pending.delete(id);
      pending.reject(new Error('cancelled'));
    }
    if (this.#pending.size === 0) this.#worker.unref();
    if (!this.#dead) this.#worker.postMessage({ id: -1, stream, type: 'cancel' } satisfies WorkerRequest);
  }

  request(request: Request, transfer: ArrayBuffer[] = []): Promise<Hours> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const result = new Promise<Hours>((resolve, reject) =>
      this.#pending.set(id, { stream: request.stream, resolve, reject }),
    );
    result.catch(() => {}); // awaited by the caller, in order; this keeps an early failure from being "unhandled"
    if (this.#pending.size === 1) this.#worker.ref();
    this.#worker.postMessage({ ...request, id }, transfer);
    return result;
  }

  #settle(reply: WorkerReply): void {
    const pending = this.#pending.get(reply.id);
    if (!pending) return;
    this.#pending.delete(reply.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if ('input' in reply && reply.input) spareInputs.give(reply.input);
    if ('error' in reply) {
      const { name, message } = reply.error;
      pending.reject(name === 'EventRecordError' ? new EventRecordError(message) : new Error(message));
      return;
    }
    pending.resolve(
      reply.hours.map(([hour, bytes, records]) => {
        const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        return { hour, bytes: view, records, written: () => this.recycle(view) };
      }),
    );
  }

  #failAll(cause: Error): void {
    const error = new NormaliserThreadError(`the normaliser thread failed: ${cause.message}`, { cause });
    this.#dead ??= error;
    for (const pending of this.#pending.values()) pending.reject(error);
    this.#pending.clear();
    const at = pool.indexOf(this);
    if (at !== -1) pool.splice(at, 1);
  }
}

/**
 * Threads in the pool: one per core beyond the first, which the main thread (HTTP body, zip, output
 * gzip, writes) and libuv's pool keep busy, and at most two. On two cores a second thread measured no
 * faster and 80 MB larger (bench/worker-sync.bench.ts). AMPLITUDE_SYNC_NORMALISER_THREADS sets another
 * number (tests, benchmarks).
 */
const POOL_SIZE = Math.max(
  1,
  Math.floor(
    Number(process.env.AMPLITUDE_SYNC_NORMALISER_THREADS) || Math.min(2, availableParallelism() - 1),
  ),
);
const pool: NormaliserThread[] = [];

/** The least busy thread; a new one while the pool has room and every thread is busy. */
function pickThread(): NormaliserThread {
  let best = pool[0];
  for (const thread of pool) if (thread.load < best!.load) best = thread;
  if (best && (best.load === 0 || pool.length >= POOL_SIZE)) return best;
  const started = new NormaliserThread();
  pool.push(started);
  return started;
}

/**
 * Starts the pool's threads ahead of the first export (a worker process is there to run them): a
 * thread takes 50-100 ms to start and load its modules, which the first export would otherwise wait for.
 */
export function startNormaliserThreads(): void {
  while (pool.length < POOL_SIZE) pool.push(new NormaliserThread());
}

/** The pool as it stands, for tests: threads started and threads with requests awaiting a reply. */
export function normaliserThreads(): { started: number; busy: number } {
  return { started: pool.length, busy: pool.filter((thread) => thread.load > 0).length };
}

/** The worker thread itself failed (not the data): the attempt is retried, with a new thread. */
export class NormaliserThreadError extends Error {
  override name = 'NormaliserThreadError';
}

export type NormalisedChunk = MemberStart | { kind: 'events'; outputs: HourOutputs };

const YOUNG_GENERATION_MB = 4;

/**
 * Compressed bytes an export may have handed to the threads and not yet delivered, 2 MiB a thread. It
 * bounds the memory of an export (its outputs wait here, about twice as many bytes on poorly
 * compressible events, six times on typical ones). On two cores, 4 MiB kept the speed of 16 MiB and
 * took the worker's peak RSS on large events from 288-292 to 260-263 MB (bench/worker-sync.bench.ts);
 * since normalisation runs in WebAssembly the outputs wait here for the compressor, and 2 MiB keeps
 * the speed of 4 MiB.
 */
export const AHEAD_BYTES = POOL_SIZE * 2 * 1024 * 1024;
/** Compressed bytes handed to a thread in one message. */
const SEND_BYTES = 512 * 1024;

/** The main thread's share of an export's garbage, counted in compressed bytes read. */
const mainCollector = new BufferCollector({ major: 256 * 1024 * 1024 });

/** Message buffers the threads have consumed and handed back, reused before allocating. */
const spareInputs = new SpareBuffers(8);

/** A member handed to a thread: `stream` tells it apart on that thread. */
type Member = { thread: NormaliserThread; stream: number };
/** What the reader delivers next; `ends` on the member's last chunk. */
type Item = { chunk: Promise<NormalisedChunk>; bytes: number; ends?: Member };

/**
 * Decodes an Export API body into normalised events per upload hour, in the archive's order, with
 * member boundaries in place. Members that are not `.json.gz` are skipped; a body that is not a ZIP,
 * a truncated or corrupt archive or member, or a line that is not an event, throws.
 */
export async function* decodeExportOffThread(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<NormalisedChunk> {
  const items: Item[] = [];
  const open = new Set<Member>(); // handed over, not yet delivered to their end
  let ahead = 0;
  let fed = false;
  let stopped = false;
  let wakeReader = () => {};
  let wakeFeeder = () => {};
  const push = (item: Item) => {
    item.chunk.catch(() => {}); // delivered in order; this keeps an early failure from being "unhandled"
    items.push(item);
    ahead += item.bytes;
    wakeReader();
  };
  /** False once the reader has gone. */
  const room = async (full: () => boolean) => {
    while (full() && !stopped) await new Promise<void>((resolve) => (wakeFeeder = resolve));
    return !stopped;
  };

  const feeding = async () => {
    for await (const zipMember of zipMembers(body)) {
      if (!isEventMember(zipMember.name)) continue;
      // One member more than threads: the next member's bytes go over while the last chunks of the
      // current one are normalised and written, so the pipeline does not drain at every member
      // (large events, one hour: 130 -> 138 MB/s, bench/worker-sync.bench.ts).
      if (!(await room(() => open.size > POOL_SIZE))) return;
      const thread = pickThread();
      const member: Member = { thread, stream: thread.nextStream++ };
      open.add(member);
      const send = (request: Request, transfer?: ArrayBuffer[]) =>
        events(zipMember.name, thread.request(request, transfer));
      push({ chunk: Promise.resolve(memberStart(zipMember.name)), bytes: 0 });
      push({ chunk: send({ stream: member.stream, type: 'member' }), bytes: 0 });
      // Compressed bytes go over in pieces of SEND_BYTES: each message and its reply cost both threads.
      let piece: Uint8Array[] = [];
      let pieceBytes = 0;
      const sendPiece = () => {
        // A copy into memory of its own (never a slice of Node's shared pool), so it can move to the worker.
        // A message ends at the first HTTP chunk that takes it to SEND_BYTES: room for one more is left.
        const bytes = new Uint8Array(spareInputs.take(pieceBytes, SEND_BYTES * 1.25), 0, pieceBytes);
        let at = 0;
        for (const data of piece) {
          bytes.set(data, at);
          at += data.length;
        }
        mainCollector.spent(pieceBytes);
        piece = [];
        pieceBytes = 0;
        const length = bytes.length; // read before the transfer empties `bytes`
        push({
          chunk: send({ stream: member.stream, type: 'data', bytes }, [bytes.buffer as ArrayBuffer]),
          bytes: length,
        });
      };
      for await (const data of zipMember.data) {
        if (stopped) return;
        piece.push(data);
        pieceBytes += data.length;
        if (pieceBytes < SEND_BYTES) continue;
        sendPiece();
        if (!(await room(() => ahead >= AHEAD_BYTES))) return;
      }
      if (pieceBytes > 0) sendPiece();
      if (stopped) return;
      push({ chunk: send({ stream: member.stream, type: 'end' }), bytes: 0, ends: member });
    }
  };
  feeding().then(
    () => {
      fed = true;
      wakeReader();
    },
    (error: unknown) => {
      fed = true;
      push({ chunk: Promise.reject(error), bytes: 0 });
    },
  );

  try {
    for (;;) {
      const item = items.shift();
      if (!item) {
        if (fed) return;
        await new Promise<void>((resolve) => (wakeReader = resolve));
        continue;
      }
      yield await item.chunk;
      ahead -= item.bytes;
      if (item.ends) open.delete(item.ends);
      wakeFeeder();
    }
  } finally {
    stopped = true;
    wakeFeeder();
    for (const { thread, stream } of open) thread.cancel(stream);
  }
}

/** A member's outputs, or its failure as the member's. */
async function events(member: string, outputs: Promise<Hours>): Promise<NormalisedChunk> {
  try {
    return { kind: 'events', outputs: await outputs };
  } catch (error) {
    if (error instanceof EventRecordError || error instanceof NormaliserThreadError) throw error;
    throw new ZipFormatError(`member ${member} is corrupt or truncated: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
