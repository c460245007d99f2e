// Collections asked of V8 after so many bytes of work, where V8 on its own would wait too long.
// - The normaliser thread: Node's zlib gives every decompressed chunk a fresh buffer, and the thread
//   builds almost nothing else on its heap (normalisation runs in WebAssembly), so V8 would free those
//   buffers only once 64 MB of them had piled up (its trigger for memory held outside the heap). A
//   young-generation collection every 4 MiB frees them while they are young, in well under a
//   millisecond: the worker's peak RSS on large events went from 268-272 to 237-246 MB at the same
//   speed. A full collection every 32 MiB frees what lived longer (before the young ones were
//   collected, it alone took the peak from ~296 to ~238 MB on realistic events).
// - The main thread: the objects of each message and write it handles outlive the (1 MB) young
//   generation and pile up in the old one: +17 MB of heap over 4 GB of large events. One collection
//   every 256 MiB of compressed input keeps its heap at about 40 MB.
// - The simulator serving a cached export: every 256 KiB read from a member's file is a fresh buffer,
//   and V8 ran a full collection of the process every ~150 ms for them (a benchmark's simulator spent
//   0.42 of a core serving 1 GB of large events; 0.14 with a young-generation collection every 4 MiB
//   and zlib's CRC-32 in its ZIP writer).
// Full collections run incrementally: no measurable cost at these intervals (bench/worker-sync.bench.ts).
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Collect = (options: { type: 'major' | 'minor'; execution: 'async' | 'sync' }) => void;

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

export interface CollectionIntervals {
  /** Bytes between full collections, if any. */
  major?: number;
  /** Bytes between young-generation collections, if any. */
  minor?: number;
}

export class BufferCollector {
  readonly #major: number;
  readonly #minor: number;
  #collect: Collect | undefined;
  #sinceMajor = 0;
  #sinceMinor = 0;

  constructor({ major = Number.POSITIVE_INFINITY, minor = Number.POSITIVE_INFINITY }: CollectionIntervals) {
    this.#major = major;
    this.#minor = minor;
  }

  /** Counts bytes of work that leave garbage behind, and asks for the collections they are due. */
  spent(bytes: number): void {
    this.#sinceMajor += bytes;
    this.#sinceMinor += bytes;
    if (this.#sinceMajor >= this.#major) {
      this.#sinceMajor = 0;
      this.#sinceMinor = 0;
      this.#gc({ type: 'major', execution: 'async' });
    } else if (this.#sinceMinor >= this.#minor) {
      this.#sinceMinor = 0;
      this.#gc({ type: 'minor', execution: 'sync' });
    }
  }

  #gc(options: Parameters<Collect>[0]): void {
    this.#collect ??= exposedGc();
    this.#collect(options);
  }
}
