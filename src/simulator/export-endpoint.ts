import { HOUR_MS, parseExportHourParam } from '../amplitude/time.ts';
import type { EventLineGenerator } from './event-lines.ts';
import type { EventVolume } from './event-volume.ts';
import type { ExportCache } from './export-cache.ts';
import { type ExportMember, gzipMemberBytes, planExport } from './export-members.ts';
import { RAW_DATA_NOT_FOUND } from './http-responses.ts';
import type { ZipEntrySource } from './zip-stream.ts';

const MAX_SPAN_HOURS = 365 * 24;

export interface ExportContext {
  volume: EventVolume;
  generator: EventLineGenerator;
  cache: ExportCache | undefined;
  projectId: number;
  exportSizeLimitBytes: number;
  nominalEventBytes: number;
}

export type ExportOutcome =
  | { status: 400 | 404; text: string; hours?: { start: number; end: number } }
  | { status: 200; members: ExportMember[]; hours: { start: number; end: number } };

export function tooLargeMessage(estimatedBytes?: number): string {
  const estimate = estimatedBytes === undefined ? '' : ` (estimated ${estimatedBytes} bytes)`;
  return `The requested export is too large${estimate}: exports are limited to 4GB. Please use a shorter time range, or the Amazon S3 export for hours that are larger on their own.`;
}

function parseHourParameter(name: string, value: string | undefined): number | string {
  if (value === undefined || value === '')
    return `Missing required parameter '${name}' (format YYYYMMDDTHH, UTC).`;
  const hour = parseExportHourParam(value);
  return (
    hour ?? `Invalid '${name}' parameter '${value}': expected YYYYMMDDTHH, a real UTC date and an hour 00-23.`
  );
}

/** Validates an export request and decides its response, as of the simulated `now`. */
export function decideExport(
  query: Record<string, string>,
  context: ExportContext,
  now: number,
): ExportOutcome {
  const start = parseHourParameter('start', query.start);
  const end = parseHourParameter('end', query.end);
  if (typeof start === 'string') return { status: 400, text: start };
  if (typeof end === 'string') return { status: 400, text: end };
  const hours = { start, end };
  if (start > end)
    return { status: 400, text: `'start' (${query.start}) is after 'end' (${query.end}).`, hours };
  if ((end - start) / HOUR_MS + 1 > MAX_SPAN_HOURS) {
    return {
      status: 400,
      text: 'The requested time range is longer than 365 days. Please use a shorter range.',
      hours,
    };
  }

  let events = 0;
  for (let hour = start; hour <= end; hour += HOUR_MS) events += context.volume.visibleCountOfHour(hour, now);
  const estimatedBytes = events * context.nominalEventBytes;
  if (estimatedBytes > context.exportSizeLimitBytes)
    return { status: 400, text: tooLargeMessage(estimatedBytes), hours };
  if (events === 0) return { status: 404, text: RAW_DATA_NOT_FOUND, hours };
  return { status: 200, members: planExport(context.volume, context.projectId, start, end, now), hours };
}

/** Zip entries for the planned members, generated on demand or streamed from the cache. */
export function exportEntries(members: ExportMember[], context: ExportContext): ZipEntrySource[] {
  return members.map((member) => {
    const render = () => gzipMemberBytes(context.generator, member);
    return {
      name: member.name,
      mtime: member.hourStartMs + HOUR_MS,
      bytes: context.cache ? () => context.cache!.bytes(member, render) : render,
    };
  });
}

/** How many leading members belong to the first `hours` upload hours of the plan. */
export function membersInFirstHours(members: ExportMember[], hours: number): number {
  const firstHours = new Set<number>();
  let count = 0;
  for (const member of members) {
    firstHours.add(member.hourStartMs);
    if (firstHours.size > hours) break;
    count++;
  }
  return count;
}

const CORRUPT_FROM = 10; // just past the gzip header
const CORRUPT_TO = 42;

/** Flips bytes at the start of the deflate data, so that the member fails to inflate or fails its CRC. */
export async function* corruptGzip(bytes: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  let offset = 0;
  for await (const chunk of bytes) {
    const chunkStart = offset;
    offset += chunk.length;
    if (offset <= CORRUPT_FROM || chunkStart >= CORRUPT_TO) {
      yield chunk;
      continue;
    }
    const copy = Uint8Array.from(chunk);
    for (let i = Math.max(CORRUPT_FROM, chunkStart); i < Math.min(CORRUPT_TO, offset); i++) {
      copy[i - chunkStart] = copy[i - chunkStart]! ^ 0x5a;
    }
    yield copy;
  }
}
