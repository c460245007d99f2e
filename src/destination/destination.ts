// The one interface the activities write through, whatever the destination is (local files, an S3
// bucket, PostgreSQL tables). Every implementation keeps DESIGN.md §3: each slice has one place and is
// replaced whole; nothing half-written is visible; retries and re-reads never duplicate.

export interface PartitionWritten {
  partition: string;
  records: number;
  bytes: number;
}

/** What one slice (export window, dashboard month, snapshot) wrote. */
export interface Receipt {
  stream: string;
  slice: string;
  partitions: PartitionWritten[];
  missingDays?: string[];
  note?: string;
}

export interface LeftoversRemoved {
  /** Temporary files or abandoned uploads of interrupted attempts. */
  files: number;
  bytes: number;
  /** Receipts of syncs that ended without a manifest (cancelled, terminated, crashed). */
  receiptDirs: number;
}

/** Events of upload hours, written with bounded memory; an hour is visible only once committed. */
export interface HourWriter {
  /** Hours with written but uncommitted lines, ascending. */
  pendingHours(): number[];
  /** Appends newline-terminated lines to an hour; `consumed` is called once `lines` may be reused. */
  write(hour: number, lines: Uint8Array, records: number, consumed?: () => void): Promise<void>;
  /** Makes an hour visible, replacing what was there. An hour never written is not a partition. */
  commit(hour: number): Promise<PartitionWritten | undefined>;
  /** Drops everything uncommitted. */
  abort(): Promise<void>;
}

/** A failure the destination's configuration or rights cause: retrying cannot fix it. */
export class DestinationError extends Error {
  override name = 'DestinationError';
}

export interface Destination {
  /** Where it is, for messages: a path, s3://bucket/prefix, postgres://host/database (schema). */
  readonly location: string;
  /** Proves it reachable and writable (creating what is missing); throws DestinationError naming the fix. */
  check(): Promise<void>;
  /** `tag` tells this attempt's staged data from a concurrent attempt's. */
  hourWriter(tag: string): HourWriter;
  /** Replaces a small partition (a dashboard month, a snapshot) with these records. */
  replacePartition(partition: string, records: readonly object[]): Promise<PartitionWritten>;
  writeReceipt(runKey: string, receipt: Receipt): Promise<void>;
  readReceipts(runKey: string): Promise<Receipt[]>;
  /** Stores a sync's manifest (and drops its receipts); returns where it is. */
  writeManifest(runKey: string, manifest: SyncManifest): Promise<string>;
  /** Records per upload hour in [from, to), for hours that have a partition now. */
  eventCounts(runKey: string, from: number, to: number): Promise<Map<number, number>>;
  /** The state in the newest manifest of a connection (`connectionOf` a run key), if it has one. */
  latestState(connection: string): Promise<unknown>;
  /** Removes what interrupted syncs of the run key's connection left, except the run's own receipts. */
  removeLeftovers(keepRunKey: string): Promise<LeftoversRemoved>;
}

export interface SyncManifest {
  sync: { workflowId: string; runId: string; startedAt: string; finishedAt: string };
  state: unknown;
  streams: Record<string, { summary: unknown; written: unknown }>;
  [more: string]: unknown;
}
