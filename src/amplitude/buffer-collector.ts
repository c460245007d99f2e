// Collection of a worker thread's spent buffers. Node's zlib gives every decompressed chunk a fresh
// buffer; the normaliser thread builds almost nothing else on its heap, so V8 would free those buffers
// only once 64 MB of them had piled up (its trigger for memory held outside the heap). Asking for a
// collection of this small heap every COLLECT_EVERY_BYTES keeps that pile small: the worker's peak RSS
// went from ~296 to ~238 MB on realistic events (bench/worker-sync.bench.ts), at no measurable cost,
// as the collection runs incrementally.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const COLLECT_EVERY_BYTES = 32 * 1024 * 1024;

type Collect = (options: { type: 'major'; execution: 'async' }) => void;

/** V8's `gc`, taken from a context made while --expose-gc is briefly on (as Jest does). */
function exposedGc(): Collect {
  const existing = (globalThis as { gc?: Collect }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc') as Collect;
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

export class BufferCollector {
  readonly #collect = exposedGc();
  #spent = 0;

  /** Counts bytes of buffers that will soon be garbage; asks for a collection every COLLECT_EVERY_BYTES. */
  spent(bytes: number): void {
    this.#spent += bytes;
    if (this.#spent < COLLECT_EVERY_BYTES) return;
    this.#spent = 0;
    this.#collect({ type: 'major', execution: 'async' });
  }
}
