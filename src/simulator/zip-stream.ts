import { crc32 } from 'node:zlib';
import { type AsyncFlateStreamHandler, Zip, type ZipInputFile } from 'fflate';

export interface ZipEntrySource {
  name: string;
  /** Stored as the DOS timestamp of the entry (fflate converts it in the process's local time zone). */
  mtime: number;
  bytes: () => AsyncIterable<Uint8Array>;
}

export interface ZipStreamOptions {
  /** Stop after this many complete entries, without writing the central directory. */
  stopAfterEntries?: number;
  /** Pass each entry's bytes through this (e.g. to corrupt one of them). */
  transformEntry?: (entryIndex: number, bytes: AsyncIterable<Uint8Array>) => AsyncIterable<Uint8Array>;
}

/**
 * A ZIP archive produced entry by entry. Entries are stored (method 0) with a data descriptor, as
 * their sizes are unknown when their header is written. Only the current chunk is ever held.
 */
export async function* zipStream(
  entries: Iterable<ZipEntrySource>,
  options: ZipStreamOptions = {},
): AsyncGenerator<Uint8Array> {
  const ready: Uint8Array[] = [];
  let failure: Error | null = null;
  const zip = new Zip((error, chunk) => {
    if (error) failure = error;
    else if (chunk.length > 0) ready.push(chunk);
  });
  function* takeReady(): Generator<Uint8Array> {
    if (failure) throw failure;
    while (ready.length > 0) yield ready.shift()!;
  }

  let entryIndex = 0;
  for (const entry of entries) {
    if (options.stopAfterEntries !== undefined && entryIndex >= options.stopAfterEntries) return;
    const file = new StoredEntry(entry.name, entry.mtime);
    zip.add(file);
    const bytes = options.transformEntry ? options.transformEntry(entryIndex, entry.bytes()) : entry.bytes();
    for await (const chunk of bytes) {
      file.push(chunk);
      yield* takeReady();
    }
    file.push(new Uint8Array(0), true);
    yield* takeReady();
    entryIndex++;
  }
  if (options.stopAfterEntries !== undefined && entryIndex >= options.stopAfterEntries) return;
  zip.end();
  yield* takeReady();
}

/**
 * An entry stored as it is (method 0). Like fflate's ZipPassThrough, but with the CRC-32 computed by
 * zlib (about six times faster than fflate's JavaScript CRC, which was most of the simulator's CPU
 * while it served a large export).
 */
class StoredEntry implements ZipInputFile {
  readonly compression = 0;
  crc = 0;
  size = 0;
  ondata?: AsyncFlateStreamHandler;

  constructor(
    readonly filename: string,
    readonly mtime: number,
  ) {}

  push(chunk: Uint8Array, final = false): void {
    this.crc = crc32(chunk, this.crc);
    this.size += chunk.length;
    this.ondata!(null, chunk as Uint8Array<ArrayBuffer>, final);
  }

  terminate(): void {}
}
