// What the file-shaped destinations (local, s3) share: partitions as gzipped NDJSON, and the tag that
// marks a connection's temporary files.
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { connectionOf } from './layout.ts';

const gzipAsync = promisify(gzip);

/** Records as gzipped NDJSON, one JSON object a line. */
export function gzipRecords(records: readonly object[]): Promise<Buffer> {
  return gzipAsync(records.map((record) => `${JSON.stringify(record)}\n`).join(''));
}

/** The tag in the temporary names of one connection's files. */
export function ownerTag(runKey: string): string {
  return `as${createHash('sha256').update(connectionOf(runKey)).digest('hex').slice(0, 8)}`;
}
