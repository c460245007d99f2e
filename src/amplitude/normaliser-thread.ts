// Export decoding and event normalisation on a worker thread: the main thread reads the HTTP body and
// the zip and hands each member's compressed bytes over; the worker gunzips (on libuv's thread pool)
// and normalises, so parsing never waits behind the main thread's I/O or its garbage collection.
// One worker per process, shared by concurrent exports, started on first use and never keeping the
// process alive.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { EventRecordError, type HourLines } from './event-record.ts';
import { isEventMember, type MemberStart, memberStart } from './export-decoder.ts';
import type { WorkerReply, WorkerRequest } from './normaliser-worker.ts';
import { ZipFormatError, zipMembers } from './zip-stream.ts';

/**
 * Normalised lines in archive order; an hour can appear more than once. Call `written()` once the
 * bytes are no longer needed: the memory goes back to the worker for reuse.
 */
export type HourOutputs = Array<HourLines & { hour: number; written(): void }>;
type Hours = HourOutputs;
type Pending = { resolve(hours: Hours): void; reject(error: Error): void };
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
    this.#worker.unref();
    this.#worker.on('message', (reply: WorkerReply) => this.#settle(reply));
    this.#worker.on('error', (error) => this.#failAll(error));
    this.#worker.on('exit', (code) =>
      this.#failAll(new Error(`the normaliser thread exited (code ${code})`)),
    );
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

  /** Drops a stream's member that its reader abandoned (an error, a cancelled attempt). */
  cancel(stream: number): void {
    if (!this.#dead) this.#worker.postMessage({ id: -1, stream, type: 'cancel' } satisfies WorkerRequest);
  }

  request(request: Request, transfer: ArrayBuffer[] = []): Promise<Hours> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    const result = new Promise<Hours>((resolve, reject) => this.#pending.set(id, { resolve, reject }));
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
    shared = undefined;
  }
}

let shared: NormaliserThread | undefined;

/** The worker thread itself failed (not the data): the attempt is retried, with a new thread. */
export class NormaliserThreadError extends Error {
  override name = 'NormaliserThreadError';
}

export type NormalisedChunk = MemberStart | { kind: 'events'; outputs: HourOutputs };

const YOUNG_GENERATION_MB = 4;

/** Compressed chunks handed to the worker ahead of the consumer. */
const DEPTH = 8;

/**
 * Decodes an Export API body into normalised events per upload hour, in the archive's order, with
 * member boundaries in place. Members that are not `.json.gz` are skipped; a body that is not a ZIP,
 * a truncated or corrupt archive or member, or a line that is not an event, throws.
 */
export async function* decodeExportOffThread(
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<NormalisedChunk> {
  shared ??= new NormaliserThread();
  const thread = shared;
  const stream = thread.nextStream++;
  let finished = false;
  try {
    yield* decodeMembers(thread, stream, body);
    finished = true;
  } finally {
    if (!finished) thread.cancel(stream);
  }
}

async function* decodeMembers(
  thread: NormaliserThread,
  stream: number,
  body: AsyncIterable<Uint8Array>,
): AsyncGenerator<NormalisedChunk> {
  for await (const member of zipMembers(body)) {
    if (!isEventMember(member.name)) continue;
    yield memberStart(member.name);
    const inFlight: Array<Promise<Hours>> = [thread.request({ stream, type: 'member' })];
    const next = async (): Promise<NormalisedChunk> => {
      try {
        return { kind: 'events', outputs: await inFlight.shift()! };
      } catch (error) {
        if (error instanceof EventRecordError || error instanceof NormaliserThreadError) throw error;
        throw new ZipFormatError(
          `member ${member.name} is corrupt or truncated: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
    };
    for await (const data of member.data) {
      const bytes = new Uint8Array(data); // a copy that owns its memory, so it can move to the worker
      inFlight.push(thread.request({ stream, type: 'data', bytes }, [bytes.buffer as ArrayBuffer]));
      if (inFlight.length >= DEPTH) yield await next();
    }
    inFlight.push(thread.request({ stream, type: 'end' }));
    while (inFlight.length > 0) yield await next();
  }
}
