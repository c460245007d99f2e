// How many events the destination holds per upload hour, for reconciliation with Amplitude's own
// counts. Read from the manifests (the newest that lists an hour's partition knows its count) and the
// receipts of the sync under way; a partition no manifest lists is counted by reading it, and one that
// is gone counts nothing.
import { HOUR_MS } from '../amplitude/time.ts';
import type { Receipt } from './destination.ts';
import { connectionOf, eventHourPartition } from './layout.ts';
import type { Compression } from './spec.ts';

/** Where manifests and receipts are kept as documents (local files, s3 objects). */
export interface ManifestStore {
  /** The codec of its partitions, which their names carry. */
  readonly compression?: Compression;
  readReceipts(runKey: string): Promise<Receipt[]>;
  /** Newest first. */
  listManifests(connection: string): Promise<string[]>;
  readManifest(connection: string, name: string): Promise<unknown>;
  /** Lines of a partition; undefined when it does not exist. */
  countRecords(partition: string): Promise<number | undefined>;
  exists(partition: string): Promise<boolean>;
}

interface ManifestShape {
  streams?: { events?: { written?: { partitions?: Receipt['partitions'] } | null } };
}

/** Records per upload hour in [from, to) (epoch ms of whole hours); hours without a partition are 0. */
export async function manifestEventCounts(
  destination: ManifestStore,
  runKey: string,
  from: number,
  to: number,
): Promise<Map<number, number>> {
  const wanted = new Map<string, number>();
  for (let hour = from; hour < to; hour += HOUR_MS)
    wanted.set(eventHourPartition(hour, destination.compression), hour);
  const counts = new Map<number, number>();
  const learn = (partitions: Receipt['partitions'] | undefined) => {
    for (const { partition, records } of partitions ?? []) {
      const hour = wanted.get(partition);
      if (hour !== undefined && !counts.has(hour)) counts.set(hour, records);
    }
  };

  // Newest first: this sync's receipts, then its connection's manifests back to the first that began
  // before `from` (a sync reads only hours that ended before it began).
  for (const receipt of (await destination.readReceipts(runKey)).reverse()) {
    if (receipt.stream === 'events') learn(receipt.partitions);
  }
  const connection = connectionOf(runKey);
  const oldest = new Date(from).toISOString().slice(0, 13);
  for (const name of await destination.listManifests(connection)) {
    if (counts.size === wanted.size) break;
    const manifest = (await destination.readManifest(connection, name).catch(() => undefined)) as
      | ManifestShape
      | undefined;
    learn(manifest?.streams?.events?.written?.partitions);
    if (name.slice(0, 13) < oldest) break;
  }
  for (const [partition, hour] of wanted) {
    // The files are the truth: a partition the manifests list but that is gone holds nothing.
    if (!counts.has(hour)) counts.set(hour, (await destination.countRecords(partition)) ?? 0);
    else if (!(await destination.exists(partition))) counts.set(hour, 0);
  }
  return counts;
}

/**
 * The state of the connection's newest manifest. Names start with the second the sync started, so
 * manifests of the same second are told apart by when they finished.
 */
export async function latestManifestState(destination: ManifestStore, connection: string): Promise<unknown> {
  const names = await destination.listManifests(connection);
  while (names.length > 0) {
    const second = names[0]!.slice(0, 20);
    const sameSecond = names.splice(0, names.findLastIndex((name) => name.startsWith(second)) + 1);
    const manifests = (
      await Promise.all(
        sameSecond.map((name) => destination.readManifest(connection, name).catch(() => undefined)),
      )
    ).filter((manifest): manifest is { state?: unknown; sync?: { finishedAt?: string } } => !!manifest);
    manifests.sort((a, b) => String(b.sync?.finishedAt).localeCompare(String(a.sync?.finishedAt)));
    const found = manifests.find((manifest) => manifest.state);
    if (found) return found.state;
  }
  return undefined;
}
