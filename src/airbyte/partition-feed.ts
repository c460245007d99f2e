// `read`'s records: the partitions the sync commits into a scratch directory (each published by an
// atomic rename, so a partition seen is a partition complete), turned into RECORD lines as they appear.
// Each partition is streamed through its decompressor in chunks, so memory stays flat whatever its size, and
// deleted once out, so the disk holds only what is still to be emitted.
import { createReadStream } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BufferCollector } from '../amplitude/buffer-collector.ts';
import type { StreamName } from '../amplitude/streams.ts';
import { decompressorFor } from '../destination/codec.ts';
import { parsePartition } from '../destination/layout.ts';
import { type ProtocolWriter, RecordFramer } from './messages.ts';

/**
 * Decompressed chunks and the records framed from them are buffers outside V8's heap, which V8 on its
 * own frees only once 64 MB of them have piled up: a young-generation collection every 4 MiB frees them
 * while they are young (buffer-collector.ts).
 */
const collector = new BufferCollector({ minor: 4 * 1024 * 1024 });

export class PartitionFeed {
  #claims = 0;
  readonly #started = new Set<StreamName>();
  records = 0;

  constructor(
    private readonly root: string,
    private readonly streams: ReadonlySet<StreamName>,
    private readonly out: ProtocolWriter,
    /** Before a stream's first record. */
    private readonly onFirstRecords: (stream: StreamName) => Promise<void> = async () => {},
  ) {}

  /**
   * Emits every partition committed since the last call, then deletes it, so the scratch directory
   * holds only what is not out yet. A partition is first renamed to
   * a name of its own: a rewrite of the same partition meanwhile lands beside it and is emitted next.
   */
  async emitNew(): Promise<void> {
    const names = await readdir(this.root, { recursive: true }).catch(() => [] as string[]);
    for (const partition of names.sort()) {
      const parsed = parsePartition(partition);
      if (!parsed || !this.streams.has(parsed.stream)) continue;
      const claimed = join(this.root, `${partition}.${++this.#claims}.emitting`);
      try {
        await rename(join(this.root, partition), claimed);
      } catch {
        continue; // replaced between the listing and now: the next call takes it
      }
      if (!this.#started.has(parsed.stream)) {
        this.#started.add(parsed.stream);
        await this.onFirstRecords(parsed.stream);
      }
      await this.#emit(claimed, partition, parsed.stream);
      await rm(claimed, { force: true });
    }
  }

  async #emit(path: string, partition: string, stream: StreamName): Promise<void> {
    const framer = new RecordFramer(stream, Date.now());
    try {
      for await (const chunk of createReadStream(path).pipe(
        decompressorFor(partition),
      ) as AsyncIterable<Buffer>) {
        await this.out.lines(framer.push(chunk));
        collector.spent(chunk.length);
      }
      await this.out.lines(framer.end());
    } finally {
      this.records += framer.records;
    }
  }
}
