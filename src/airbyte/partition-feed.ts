// `read`'s records: the partitions the sync commits into a scratch directory (each published by an
// atomic rename, so a partition seen is a partition complete), turned into RECORD lines as they appear.
// Each partition is streamed through its decompressor in chunks, so memory stays flat whatever its size, and
// deleted once out, so the disk holds only what is still to be emitted.
import { createReadStream } from 'node:fs';
import { readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { StreamName } from '../amplitude/streams.ts';
import { decompressorFor } from '../destination/codec.ts';
import { parsePartition } from '../destination/layout.ts';
import { type ProtocolWriter, recordLine } from './messages.ts';

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
    const emittedAt = Date.now();
    let rest = '';
    const lines = createReadStream(path).pipe(decompressorFor(partition));
    lines.setEncoding('utf8');
    for await (const chunk of lines as AsyncIterable<string>) {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop()!;
      let text = '';
      for (const line of parts) {
        if (line.length === 0) continue;
        text += recordLine(stream, line, emittedAt);
        this.records++;
      }
      await this.out.lines(text);
    }
    if (rest.length > 0) {
      await this.out.lines(recordLine(stream, rest, emittedAt));
      this.records++;
    }
  }
}
