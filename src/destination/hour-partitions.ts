// Stages event lines into per-hour files (gzip, unless the destination loads them at once) with bounded
// memory: at most `maxOpen` files are open at once; an hour whose file was closed early continues in a
// new part, and its parts are joined (concatenated gzip members) when the hour is committed. Committing
// hands the staged file to
// the destination to publish: renamed into place (local), uploaded (s3), loaded (postgres).

import { createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { compressor } from './codec.ts';
import type { HourWriter, PartitionWritten } from './destination.ts';
import { concatenate, ensureDirectory, removeQuietly } from './files.ts';
import { eventHourPartition } from './layout.ts';
import { PartitionFile } from './partition-file.ts';
import type { Compression } from './spec.ts';

/** An hour's staged NDJSON file, complete, ready to be published. */
export interface StagedHour {
  hour: number;
  partition: string;
  path: string;
  records: number;
  /** Compressed size. */
  bytes: number;
}

export interface StagingOptions {
  /** The staging file of a partition's part `part` (a temporary name no other writer uses). */
  stagingPath(partition: string, part: string): string;
  /** Makes the staged hour visible at its place; removes the staged file or moves it there. */
  publish(staged: StagedHour): Promise<void>;
  maxOpen?: number;
  /**
   * Whether staged files are compressed (default). A destination that reads the staged file once, at
   * once, (postgres) stages plain NDJSON: compressing only to decompress moments later costs a core.
   */
  compressed?: boolean;
  /** The codec of compressed staged files and partitions (default gzip). */
  compression?: Compression;
  /** Whether staged files are written straight to disk (PartitionFile): they become the partitions (local). */
  directToDisk?: boolean;
}

/**
 * Bytes handed to the compressors but not yet compressed, across all hours. Above the high mark the
 * writer waits until the compressors are back under the low mark, so compression and parsing overlap
 * (a stream's 'drain' would wait for an empty buffer, and the two would take turns).
 */
const PENDING_HIGH = 2 * 1024 * 1024;
const PENDING_LOW = 1024 * 1024;

interface OpenPart {
  path: string;
  /** Where lines go: the compressor in front of the file, or the file itself. */
  input: Writable;
  file: Writable;
  written: Promise<void>;
}

interface HourState {
  hour: number;
  partition: string;
  parts: string[];
  open?: OpenPart;
  records: number;
  lastUse: number;
}

export class HourPartitionWriter implements HourWriter {
  readonly #options: StagingOptions;
  readonly #maxOpen: number;
  readonly #hours = new Map<number, HourState>();
  /** Writes not yet compressed, oldest first. */
  readonly #pending: Array<{ bytes: number; done: Promise<unknown> }> = [];
  #pendingBytes = 0;
  /** The first write or compression error; every later call fails with it. */
  #failure: Error | undefined;
  /**
   * The writes waiting for the compressors, woken by a failure. (Not a race against one long-lived
   * promise: each race would leave a reaction on it until the writer ends, 9 MB in 4 GB of events.)
   */
  readonly #waiting = new Set<() => void>();
  #openCount = 0;
  #clock = 0;

  constructor(options: StagingOptions) {
    this.#options = options;
    this.#maxOpen = options.maxOpen ?? 24;
  }

  /** Hours with written but uncommitted lines. */
  pendingHours(): number[] {
    return [...this.#hours.keys()].sort((a, b) => a - b);
  }

  /**
   * Appends newline-terminated lines to an hour; resolves when the compressors (or files) can take more.
   * `consumed` is called once neither the compressor nor the file needs `lines` any more.
   */
  async write(hour: number, lines: Uint8Array, records: number, consumed?: () => void): Promise<void> {
    if (this.#failure) throw this.#failure;
    const state = this.#hours.get(hour) ?? this.#newHour(hour);
    state.lastUse = ++this.#clock;
    const part = state.open ?? (await this.#openPart(state));
    state.records += records;
    const done = new Promise((resolve) =>
      part.input.write(lines, (error) => {
        if (!error) consumed?.();
        resolve(error);
      }),
    );
    this.#pending.push({ bytes: lines.length, done });
    this.#pendingBytes += lines.length;
    if (this.#pendingBytes <= PENDING_HIGH) return;
    while (this.#pendingBytes > PENDING_LOW) {
      const oldest = this.#pending.shift()!;
      // A file that failed takes no more from its compressor, which then calls no write back.
      await this.#doneOrFailed(oldest.done);
      this.#pendingBytes -= oldest.bytes;
      if (this.#failure) throw this.#failure;
    }
  }

  #doneOrFailed(done: Promise<unknown>): Promise<void> {
    // Failed already (while the write opened its part): the waker would never be called.
    if (this.#failure) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.#waiting.delete(wake);
        resolve();
      };
      this.#waiting.add(wake);
      void done.then(wake);
    });
  }

  /** Finishes an hour and publishes it. An hour never written is not a partition. */
  async commit(hour: number): Promise<PartitionWritten | undefined> {
    if (this.#failure) throw this.#failure;
    const state = this.#hours.get(hour);
    if (!state) return undefined;
    // No longer pending from here on: a commit of a later boundary must not take this hour again.
    this.#hours.delete(hour);
    let source: string | undefined;
    try {
      await this.#closePart(state);
      const [only, ...more] = state.parts;
      source = only!;
      if (more.length > 0) {
        source = this.#options.stagingPath(state.partition, 'joined');
        await concatenate(state.parts, source);
        await removeQuietly(state.parts);
      }
      const { size } = await stat(source);
      await this.#options.publish({
        hour,
        partition: state.partition,
        path: source,
        records: state.records,
        bytes: size,
      });
      return { partition: state.partition, records: state.records, bytes: size };
    } catch (error) {
      // Nothing of the hour is left behind: its parts, or the file they were joined into.
      state.open?.file.destroy();
      await removeQuietly([
        ...state.parts,
        ...(state.open ? [state.open.path] : []),
        ...(source ? [source] : []),
      ]);
      throw error;
    }
  }

  /** Drops everything uncommitted, including temporary files. */
  async abort(): Promise<void> {
    const states = [...this.#hours.values()];
    this.#hours.clear();
    for (const state of states) {
      if (state.open) {
        state.open.input.destroy();
        state.open.file.destroy();
        await state.open.written.catch(() => {});
        state.parts.push(state.open.path);
        state.open = undefined;
      }
    }
    this.#openCount = 0;
    await removeQuietly(states.flatMap((state) => state.parts));
  }

  #newHour(hour: number): HourState {
    const state: HourState = {
      hour,
      partition: eventHourPartition(hour, this.#options.compression),
      parts: [],
      records: 0,
      lastUse: 0,
    };
    this.#hours.set(hour, state);
    return state;
  }

  async #openPart(state: HourState): Promise<OpenPart> {
    if (this.#openCount >= this.#maxOpen) await this.#closeLeastRecentlyUsed();
    const path = this.#options.stagingPath(state.partition, String(state.parts.length));
    await ensureDirectory(dirname(path));
    const file = this.#options.directToDisk ? new PartitionFile(path) : createWriteStream(path);
    let input: Writable = file;
    if (this.#options.compressed !== false) {
      // Native zlib: output compression runs on libuv's thread pool, beside the parsing thread.
      const compress = compressor(this.#options.compression ?? 'gzip');
      compress.pipe(file);
      compress.on('error', (error) => file.destroy(error));
      file.on('error', (error: Error) => compress.destroy(error)); // its native streams go at once
      input = compress;
    }
    const written = finished(file);
    // Noted at once (a disk error must not go unhandled while the hour is still open), thrown later.
    written.catch((error: Error) => {
      this.#failure ??= error;
      for (const wake of [...this.#waiting]) wake();
    });
    const part: OpenPart = { path, input, file, written };
    state.open = part;
    this.#openCount++;
    return part;
  }

  async #closePart(state: HourState): Promise<void> {
    const part = state.open;
    if (!part) return;
    state.open = undefined;
    this.#openCount--;
    part.input.end();
    await part.written;
    state.parts.push(part.path);
  }

  async #closeLeastRecentlyUsed(): Promise<void> {
    let oldest: HourState | undefined;
    for (const state of this.#hours.values()) {
      if (state.open && (!oldest || state.lastUse < oldest.lastUse)) oldest = state;
    }
    if (oldest) await this.#closePart(oldest);
  }
}
