// Where each unit of output lives. One deterministic place per unit, so a retry or a re-run rewrites
// the same file instead of adding another.
import type { StreamName } from '../amplitude/streams.ts';
import { isoDate, isoHour } from '../amplitude/time.ts';
import type { Compression } from './spec.ts';

export const PARTITION_SUFFIX: Record<Compression, string> = { gzip: '.jsonl.gz', zstd: '.jsonl.zst' };

/** Events, partitioned by the record's own server_upload_time hour. */
export function eventHourPartition(hourMs: number, compression: Compression = 'gzip'): string {
  return `events/date=${isoDate(hourMs)}/events_${isoHour(hourMs)}${PARTITION_SUFFIX[compression]}`;
}

/** Dashboard streams, one partition per calendar month of project-local days. */
export function dashboardMonthPartition(
  stream: StreamName,
  dayMs: number,
  compression: Compression = 'gzip',
): string {
  const month = isoDate(dayMs).slice(0, 7);
  return `${stream}/${stream}_${month}${PARTITION_SUFFIX[compression]}`;
}

/** Full-refresh streams: one snapshot, replaced by each sync. */
export function snapshotPartition(stream: StreamName, compression: Compression = 'gzip'): string {
  return `${stream}/${stream}${PARTITION_SUFFIX[compression]}`;
}

/** A connection or workflow ID as one directory name. */
export function fileSafe(value: string): string {
  return value.replace(/[^\w.-]+/g, '_');
}

/**
 * A sync's run key is `<connection>/<start>_<run id>`: the connection part names whose files these are,
 * so a later sync of the connection can remove what an interrupted one left, and nobody else's.
 */
export function connectionOf(runKey: string): string {
  const slash = runKey.indexOf('/');
  return slash === -1 ? runKey : runKey.slice(0, slash);
}

/** Per-sync manifests; the receipts of a sync's slices live beside them until the manifest is written. */
export function manifestPath(runKey: string): string {
  return `_manifests/${runKey}.json`;
}

export function receiptDir(runKey: string): string {
  return `_manifests/${runKey}.parts`;
}

/** A slice's receipt file name, one per slice. */
export function receiptName(receipt: { stream: string; slice: string }): string {
  return `${`${receipt.stream}_${receipt.slice}`.replace(/[^\w.-]+/g, '_')}.json`;
}

/** What a partition name holds: a stream and an upload hour, a month, or the snapshot. */
export function parsePartition(
  partition: string,
): { stream: StreamName; hour?: string; month?: string; snapshot?: true } | undefined {
  const events = /^events\/date=\d{4}-\d{2}-\d{2}\/events_(\d{4}-\d{2}-\d{2}T\d{2})\.jsonl\.(?:gz|zst)$/.exec(
    partition,
  );
  if (events) return { stream: 'events', hour: events[1]! };
  const month = /^(active_users|average_session_length)\/\1_(\d{4}-\d{2})\.jsonl\.(?:gz|zst)$/.exec(
    partition,
  );
  if (month) return { stream: month[1] as StreamName, month: month[2]! };
  const snapshot = /^(annotations|cohorts|events_list)\/\1\.jsonl\.(?:gz|zst)$/.exec(partition);
  if (snapshot) return { stream: snapshot[1] as StreamName, snapshot: true };
  return undefined;
}
