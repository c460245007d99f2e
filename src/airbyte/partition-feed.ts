// `read`'s records: the partitions the sync commits into a scratch directory (each published by an
// atomic rename, so a partition seen is a partition complete), turned into RECORD lines as they appear.
// Each partition is streamed through gunzip in chunks, so memory stays flat whatever its size.
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import type { StreamName } from '../amplitude/streams.ts';
import { parsePartition } from '../destination/layout.ts';
import { type ProtocolWriter, recordLine } from './messages.ts';

export class PartitionFeed {
  /** Partition -> the version of it already emitted (a rewrite within the sync is emitted again). */
  readonly #emitted = new Map<string, string>();
  records = 0;

  constructor(
    private readonly root: string,
    private readonly streams: ReadonlySet<StreamName>,
    private readonly out: ProtocolWriter,
  ) {}

  /** Emits every partition committed since the last call; returns the streams that had any. */
  async emitNew(): Promise<Set<StreamName>> {
    const fed = new Set<StreamName>();
    for (const { partition, stream, version } of await this.#committed()) {
      if (this.#emitted.get(partition) === version) continue;
      await this.#emit(partition, stream);
      this.#emitted.set(partition, version);
      fed.add(stream);
    }
    return fed;
  }

  async #committed() {
    const names = await readdir(this.root, { recursive: true }).catch(() => [] as string[]);
    const found: Array<{ partition: string; stream: StreamName; version: string }> = [];
    for (const partition of names.sort()) {
      const parsed = parsePartition(partition);
      if (!parsed || !this.streams.has(parsed.stream)) continue;
      const info = await stat(join(this.root, partition)).catch(() => undefined);
      if (info) found.push({ partition, stream: parsed.stream, version: `${info.mtimeMs}/${info.size}` });
    }
    return found;
  }

  async #emit(partition: string, stream: StreamName): Promise<void> {
    const emittedAt = Date.now();
    let rest = '';
    const lines = createReadStream(join(this.root, partition)).pipe(createGunzip());
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
