// Files that appear whole or not at all: written under a temporary dot-name beside their final place,
// flushed to disk, then renamed into place.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, fdatasync, type WriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** A temporary name in the same directory (so the rename is atomic); dot-files are ignored by readers. */
export function temporaryPath(finalPath: string, tag: string = randomUUID().slice(0, 8)): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${tag}.tmp`);
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Bytes written between two background flushes of a file (BackgroundFlush). */
const FLUSH_EVERY = 64 * 1024 * 1024;

/**
 * Flushes a file to disk in the background as it is written, every FLUSH_EVERY bytes, so that the
 * fsync of `publish` finds little left to write: the disk works while the export goes on, not after
 * it (an hour of large events left ~530 MB for that fsync, about a quarter of a second here). A failed
 * flush is thrown by `stop()`: Linux reports a write-back error once, to the first sync that sees it,
 * so the later fsync of `publish` (through another descriptor) would not.
 */
export class BackgroundFlush {
  #fd: number | undefined;
  #unflushed = 0;
  #flushing: Promise<void> = Promise.resolve();
  #failure: Error | undefined;
  #stopped = false;

  constructor(
    private readonly file: WriteStream,
    private readonly sync: typeof fdatasync = fdatasync,
  ) {
    file.once('open', (fd: number) => {
      this.#fd = fd;
    });
  }

  /** Counts bytes handed to the file; starts a flush when enough have been. */
  wrote(bytes: number): void {
    this.#unflushed += bytes;
    const fd = this.#fd;
    if (this.#unflushed < FLUSH_EVERY || this.#stopped || fd === undefined) return;
    this.#unflushed = 0;
    this.#flushing = this.#flushing.then(() => this.#flush(fd));
  }

  /** Starts no more flushes; resolves when the one under way is done (so the file may close), or throws its error. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#flushing;
    if (this.#failure) throw this.#failure;
  }

  #flush(fd: number): Promise<void> {
    // Not once the file is closed (its descriptor number may then belong to another file): `stop()`
    // is awaited before a file is ended, but a stream that failed closes itself.
    if (this.file.destroyed || this.file.closed) return Promise.resolve();
    return new Promise((done) =>
      this.sync(fd, (error) => {
        this.#failure ??= error ?? undefined;
        done();
      }),
    );
  }
}

/** Flushes `temporary` to disk and renames it over `finalPath`, then flushes the directory entry. */
export async function publish(temporary: string, finalPath: string): Promise<void> {
  await fsync(temporary);
  await rename(temporary, finalPath);
  await fsync(dirname(finalPath));
}

export async function ensureDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

/** Writes the concatenation of `parts` to `target` (gzip members concatenated form one valid gzip file). */
export async function concatenate(parts: string[], target: string): Promise<void> {
  const out = createWriteStream(target);
  for (const [index, part] of parts.entries()) {
    await pipeline(createReadStream(part), out, { end: index === parts.length - 1 });
  }
  if (parts.length === 0) out.end();
}

export async function removeQuietly(paths: Iterable<string>): Promise<void> {
  await Promise.all([...paths].map((path) => rm(path, { force: true })));
}
