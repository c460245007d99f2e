// The local destination: compressed NDJSON partitions (gzip, or zstd) under one root directory, plus the per-sync
// manifests. Every temporary file carries its connection's tag, so that a later sync of the connection
// can remove what an interrupted one left behind.
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { compressRecords, decompressorFor, otherCodecPartition } from './codec.ts';
import type {
  Destination,
  LeftoversRemoved,
  PartitionWritten,
  Receipt,
  SyncManifest,
} from './destination.ts';
import { ensureDirectory, publish, temporaryPath } from './files.ts';
import { HourPartitionWriter } from './hour-partitions.ts';
import { connectionOf, manifestPath, receiptDir, receiptName } from './layout.ts';
import { latestManifestState, type ManifestStore, manifestEventCounts } from './manifest-counts.ts';
import { ownerTag } from './partition-files.ts';
import type { Compression } from './spec.ts';

export class LocalDestination implements Destination, ManifestStore {
  readonly root: string;
  /** Starts every temporary name this destination writes. */
  readonly #owner: string;

  /** @param runKey the sync this destination writes for; it names the owner of temporary files */
  constructor(
    root: string,
    runKey = 'local',
    readonly compression: Compression = 'gzip',
    /** Event partitions written straight to disk (PartitionFile), unless they are read back at once. */
    private readonly directToDisk = true,
  ) {
    this.root = resolve(root);
    this.#owner = ownerTag(runKey);
  }

  get location(): string {
    return this.root;
  }

  path(relative: string): string {
    return join(this.root, relative);
  }

  async replacePartition(partition: string, records: readonly object[]): Promise<PartitionWritten> {
    const bytes = await compressRecords(partition, records);
    await this.#writeAtomically(partition, bytes);
    await rm(this.path(otherCodecPartition(partition)), { force: true });
    return { partition, records: records.length, bytes: bytes.length };
  }

  hourWriter(tag: string, maxOpen?: number): HourPartitionWriter {
    return new HourPartitionWriter({
      stagingPath: (partition, part) => temporaryPath(this.path(partition), `${this.#owner}-${tag}.${part}`),
      publish: async (staged) => {
        await publish(staged.path, this.path(staged.partition));
        await rm(this.path(otherCodecPartition(staged.partition)), { force: true });
      },
      compression: this.compression,
      directToDisk: this.directToDisk,
      ...(maxOpen ? { maxOpen } : {}),
    });
  }

  /** Creates the root if needed and proves it writable with a probe file; throws the file-system error. */
  async check(): Promise<void> {
    await ensureDirectory(this.root);
    const probe = join(this.root, `.write-probe.${this.#owner}-${randomUUID().slice(0, 8)}.tmp`);
    await writeFile(probe, 'amplitude-sync');
    await rm(probe);
  }

  /**
   * Removes what interrupted syncs of this connection left: its temporary files, whichever attempt
   * wrote them, and the receipts of its syncs that never wrote a manifest, except `keepRunKey`'s. Runs
   * when no other sync of the connection is live (one sync per connection at a time).
   */
  async removeLeftovers(keepRunKey: string): Promise<LeftoversRemoved> {
    const removed: LeftoversRemoved = { files: 0, bytes: 0, receiptDirs: 0 };
    const marker = `.${this.#owner}-`;
    const entries = await readdir(this.root, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.startsWith('.') || !entry.name.endsWith('.tmp')) continue;
      if (!entry.name.includes(marker)) continue;
      const path = join(entry.parentPath, entry.name);
      const size = await stat(path).then(
        (info) => info.size,
        () => 0,
      );
      await rm(path, { force: true });
      removed.files++;
      removed.bytes += size;
    }
    const connection = connectionOf(keepRunKey);
    const receipts = this.path(`_manifests/${connection}`);
    const keep = `${keepRunKey.slice(connection.length + 1)}.parts`;
    for (const name of await readdir(receipts).catch(() => [] as string[])) {
      if (!name.endsWith('.parts') || name === keep) continue;
      await rm(join(receipts, name), { recursive: true, force: true });
      removed.receiptDirs++;
    }
    return removed;
  }

  /** A slice's receipt: what it wrote, kept until the sync's manifest gathers it. One file per slice. */
  async writeReceipt(runKey: string, receipt: Receipt): Promise<void> {
    await this.#writeAtomically(`${receiptDir(runKey)}/${receiptName(receipt)}`, JSON.stringify(receipt));
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

  async writeManifest(runKey: string, manifest: SyncManifest): Promise<string> {
    const relative = manifestPath(runKey);
    await this.#writeAtomically(relative, `${JSON.stringify(manifest, null, 2)}\n`);
    await rm(this.path(receiptDir(runKey)), { recursive: true, force: true });
    return this.path(relative);
  }

  eventCounts(runKey: string, from: number, to: number): Promise<Map<number, number>> {
    return manifestEventCounts(this, runKey, from, to);
  }

  latestState(connection: string): Promise<unknown> {
    return latestManifestState(this, connection);
  }

  /** The names of a connection's manifests (`<start>_<run id>.json`), newest first. */
  async listManifests(connection: string): Promise<string[]> {
    const names = await readdir(this.path(`_manifests/${connection}`)).catch(() => [] as string[]);
    return names
      .filter((name) => name.endsWith('.json') && !name.startsWith('.'))
      .sort()
      .reverse();
  }

  async readManifest(connection: string, name: string): Promise<unknown> {
    return JSON.parse(await readFile(this.path(`_manifests/${connection}/${name}`), 'utf8'));
  }

  /** The number of records (lines) in a partition; undefined when it does not exist. */
  async countRecords(partition: string): Promise<number | undefined> {
    if (!(await this.exists(partition))) return undefined;
    let lines = 0;
    for await (const chunk of createReadStream(this.path(partition)).pipe(decompressorFor(partition))) {
      for (const byte of chunk as Buffer) if (byte === 0x0a) lines++;
    }
    return lines;
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
    const temporary = temporaryPath(finalPath, `${this.#owner}-${randomUUID().slice(0, 8)}`);
    await writeFile(temporary, content);
    await publish(temporary, finalPath);
  }
}
