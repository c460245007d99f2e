// Collections asked of V8 after so many bytes of work, where V8 on its own would wait too long.
// - The normaliser thread: Node's zlib gives every decompressed chunk a fresh buffer, and the thread
//   builds almost nothing else on its heap, so V8 would free those buffers only once 64 MB of them had
//   piled up (its trigger for memory held outside the heap). One collection every 32 MiB: the worker's
//   peak RSS went from ~296 to ~238 MB on realistic events (bench/worker-sync.bench.ts).
// - The main thread: the objects of each message and write it handles outlive the (1 MB) young
//   generation and pile up in the old one: +17 MB of heap over 4 GB of large events. One collection
//   every 256 MiB of compressed input keeps its heap at about 40 MB.
// The collections run incrementally: no measurable cost at these intervals.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

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
  readonly #everyBytes: number;
  #collect: Collect | undefined;
  #spent = 0;

  constructor(everyBytes: number) {
    this.#everyBytes = everyBytes;
  }

  /** Counts bytes of work that leave garbage behind; asks for a collection every `everyBytes`. */
  spent(bytes: number): void {
    this.#spent += bytes;
    if (this.#spent < this.#everyBytes) return;
    this.#spent = 0;
    this.#collect ??= exposedGc();
    this.#collect({ type: 'major', execution: 'async' });
  }
}
