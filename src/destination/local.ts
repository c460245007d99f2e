// The local partitioned destination: gzipped NDJSON partitions under one root directory, plus the
// per-sync manifests.
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ensureDirectory, publish, temporaryPath } from './files.ts';
import { HourPartitionWriter, type PartitionWritten } from './hour-partitions.ts';
import { manifestPath, receiptDir } from './layout.ts';

export type { PartitionWritten } from './hour-partitions.ts';

/** What one slice (export window, dashboard month, snapshot) wrote. */
export interface Receipt {
  stream: string;
  slice: string;
  partitions: PartitionWritten[];
  missingDays?: string[];
  note?: string;
}

const gzipAsync = promisify(gzip);

export class LocalDestination {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  /** Replaces a small partition (a dashboard month, a snapshot) with these records. */
  async writePartition(partition: string, records: readonly unknown[]): Promise<PartitionWritten> {
    const body = records.map((record) => `${JSON.stringify(record)}\n`).join('');
    const bytes = await gzipAsync(body);
    await this.#writeAtomically(partition, bytes);
    return { partition, records: records.length, bytes: bytes.length };
  }

  hourPartitionWriter(tag: string, maxOpen?: number): HourPartitionWriter {
    return new HourPartitionWriter((partition) => this.path(partition), tag, maxOpen);
  }

  /** A slice's receipt: what it wrote, kept until the sync's manifest gathers it. One file per slice. */
  async writeReceipt(runKey: string, receipt: Receipt): Promise<void> {
    const name = `${receipt.stream}_${receipt.slice}`.replace(/[^\w.-]+/g, '_');
    await this.#writeAtomically(`${receiptDir(runKey)}/${name}.json`, JSON.stringify(receipt));
  }

  async readReceipts(runKey: string): Promise<Receipt[]> {
    const dir = this.path(receiptDir(runKey));
    let names: string[];
    try {
      names = (await readdir(dir)).filter((name) => name.endsWith('.json') && !name.startsWith('.')).sort();
    } catch {
      return [];
    }
    return Promise.all(names.map(async (name) => JSON.parse(await readFile(join(dir, name), 'utf8'))));
  }

  async writeManifest(runKey: string, manifest: unknown): Promise<string> {
    const relative = manifestPath(runKey);
    await this.#writeAtomically(relative, `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(this.path(receiptDir(runKey)), { recursive: true, force: true });
    return this.path(relative);
  }

  async exists(relative: string): Promise<boolean> {
    return stat(this.path(relative)).then(
      () => true,
      () => false,
    );
  }

  async #writeAtomically(relative: string, content: string | Uint8Array): Promise<void> {
    const finalPath = this.path(relative);
    await ensureDirectory(dirname(finalPath));
    const temporary = temporaryPath(finalPath);
    await writeFile(temporary, content);
    await publish(temporary, finalPath);
  }
}
