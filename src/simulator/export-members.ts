import { pipeline, Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { HOUR_MS, isoDate } from '../amplitude/time.ts';
import type { EventLineGenerator } from './event-lines.ts';
import type { EventVolume, Partition } from './event-volume.ts';

/** Fast compression: gzip is the throughput bottleneck of serving, and the level changes no content. */
export const GZIP_LEVEL = 1;
const LOOKAHEAD_BYTES = 1024 * 1024;

export interface ExportMember {
  /** `<app>/<app>_<YYYY-MM-DD>_<H>#<n>.json.gz` */
  name: string;
  hourStartMs: number;
  /** events in the whole upload hour (event content depends on it) */
  hourCount: number;
  partition: Partition;
}

export function memberName(projectId: number, hourStartMs: number, partitionNumber: number): string {
  const hourOfDay = new Date(hourStartMs).getUTCHours();
  return `${projectId}/${projectId}_${isoDate(hourStartMs)}_${hourOfDay}#${partitionNumber}.json.gz`;
}

/** The members an export of [firstHour, lastHour] (inclusive) serves at `now`, in archive order. */
export function planExport(
  volume: EventVolume,
  projectId: number,
  firstHour: number,
  lastHour: number,
  now: number,
): ExportMember[] {
  const members: ExportMember[] = [];
  for (let hour = firstHour; hour <= lastHour; hour += HOUR_MS) {
    if (!volume.isAvailable(hour, now)) continue;
    const hourCount = volume.countOfHour(hour);
    for (const partition of volume.partitions(hour)) {
      members.push({
        name: memberName(projectId, hour, partition.number),
        hourStartMs: hour,
        hourCount,
        partition,
      });
    }
  }
  return members;
}

/** The gzip bytes of one member, generated on demand with backpressure (nothing is held beyond stream buffers). */
export function gzipMemberBytes(generator: EventLineGenerator, member: ExportMember): AsyncIterable<Buffer> {
  const { hourStartMs, hourCount, partition } = member;
  const ndjson = Readable.from(generator.ndjsonChunks(hourStartMs, hourCount, partition.from, partition.to), {
    objectMode: false,
    highWaterMark: LOOKAHEAD_BYTES,
  });
  // An output buffer larger than what one input chunk compresses to lets zlib deflate a whole chunk in
  // one thread-pool job, while the main thread generates the next one.
  const gzip = createGzip({ level: GZIP_LEVEL, chunkSize: 256 * 1024 });
  // pipeline() destroys the generator side too when the consumer stops early.
  return pipeline(ndjson, gzip, () => {});
}
