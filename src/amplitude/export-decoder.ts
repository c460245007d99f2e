// Export API body -> event lines, streamed: zip members -> gunzip -> lines, with backpressure (the next
// bytes are read only when the consumer asks for the next batch).
import { Readable } from 'node:stream';
import { createGunzip, type ZlibOptions } from 'node:zlib';
import { ZipFormatError, zipMembers } from './zip-stream.ts';

/**
 * Complete lines of decompressed data, as byte ranges: line i spans [bounds[2i], bounds[2i+1]) of
 * `buffer`, without its line end. Lines stay bytes until someone needs them as text.
 */
export interface LineBatch {
  buffer: Buffer;
  bounds: number[];
}

/**
 * A member of the archive begins. When its name follows Amplitude's naming, `hour` is its upload hour
 * and `partition` the `#n` counter.
 */
export interface MemberStart {
  kind: 'member';
  name: string;
  hour?: number;
  partition?: number;
}

export type ExportChunk = MemberStart | { kind: 'lines'; batch: LineBatch };

export function memberStart(name: string): MemberStart {
  const m = MEMBER_NAME.exec(name);
  const hour = memberHour(name);
  return hour === undefined || !m
    ? { kind: 'member', name }
    : { kind: 'member', name, hour, partition: Number(m[5]) };
}

export function lineStrings(batch: LineBatch): string[] {
  const lines: string[] = [];
  for (let i = 0; i < batch.bounds.length; i += 2) {
    lines.push(batch.buffer.toString('utf8', batch.bounds[i], batch.bounds[i + 1]));
  }
  return lines;
}

const MEMBER_NAME = /_(\d{4})-(\d{2})-(\d{2})_(\d{1,2})#(\d+)\.json\.gz$/;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const GUNZIP_CHUNK = 1024 * 1024;
/** Decompressed bytes the gunzip may run ahead of the parser (it works on libuv's thread pool). */
const GUNZIP_AHEAD = 4 * 1024 * 1024;

/** `<app>/<app>_2024-03-01_9#0.json.gz` -> the epoch ms of 2024-03-01T09:00Z. */
export function memberHour(name: string): number | undefined {
  const m = MEMBER_NAME.exec(name);
  if (!m) return undefined;
  const hour = Number(m[4]);
  return hour < 24 ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), hour) : undefined;
}

export function isEventMember(name: string): boolean {
  return name.endsWith('.json.gz');
}

/**
 * Splits decompressed bytes into lines. Lines are cut at byte 0x0A, which never occurs inside a
 * multi-byte UTF-8 sequence, so a character split across chunks is never cut; U+2028/U+2029 stay
 * inside their line; CR before LF and empty lines are dropped. Lines inside a chunk are not copied:
 * a batch points into the chunk; only a line that spans chunks is joined.
 */
export class LineSplitter {
  #rest: Buffer = EMPTY;

  push(chunk: Buffer): LineBatch[] {
    const first = chunk.indexOf(NEWLINE);
    if (first === -1) {
      this.#rest = Buffer.concat([this.#rest, chunk]);
      return [];
    }
    const last = chunk.lastIndexOf(NEWLINE);
    const batches: LineBatch[] = [];
    if (this.#rest.length === 0) {
      pushBatch(batches, chunk, 0, last + 1);
    } else {
      pushBatch(batches, Buffer.concat([this.#rest, chunk.subarray(0, first + 1)]), 0, undefined);
      pushBatch(batches, chunk, first + 1, last + 1);
    }
    this.#rest = last + 1 < chunk.length ? Buffer.from(chunk.subarray(last + 1)) : EMPTY;
    return batches;
  }

  /** The last line when the data does not end with a newline. */
  end(): LineBatch[] {
    const rest = this.#rest;
    this.#rest = EMPTY;
    const batches: LineBatch[] = [];
    pushBatch(batches, Buffer.concat([rest, NEWLINE_BYTE]), 0, undefined);
    return batches;
  }
}

const EMPTY = Buffer.alloc(0);
const NEWLINE_BYTE = Buffer.from('\n');

/** Adds the batch of lines in buffer[from, to) (each ending with a newline) unless it has none. */
function pushBatch(batches: LineBatch[], buffer: Buffer, from: number, to: number | undefined): void {
  const end = to ?? buffer.length;
  const bounds: number[] = [];
  let start = from;
  for (
    let stop = buffer.indexOf(NEWLINE, start);
    stop !== -1 && stop < end;
    stop = buffer.indexOf(NEWLINE, start)
  ) {
    const lineEnd = stop > start && buffer[stop - 1] === CARRIAGE_RETURN ? stop - 1 : stop;
    if (lineEnd > start) bounds.push(start, lineEnd);
    start = stop + 1;
  }
  if (bounds.length > 0) batches.push({ buffer, bounds });
}

/** The lines of one gzip member (several concatenated gzip streams are read as one). */
export async function* gunzipLines(gzipped: AsyncIterable<Buffer>): AsyncGenerator<LineBatch> {
  const source = Readable.from(gzipped, { objectMode: false });
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK, highWaterMark: GUNZIP_AHEAD } as ZlibOptions);
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  const splitter = new LineSplitter();
  try {
    for await (const chunk of gunzip) yield* splitter.push(chunk as Buffer);
    yield* splitter.end();
  } finally {
    source.destroy();
    gunzip.destroy();
  }
}

/**
 * Decodes an Export API body. Members that are not `.json.gz` (e.g. `_complete` markers) are skipped.
 * A body that is not a ZIP, or a truncated or corrupt archive or member, throws: nothing partial is
 * ever presented as complete.
 */
export async function* decodeExport(body: AsyncIterable<Uint8Array>): AsyncGenerator<ExportChunk> {
  for await (const member of zipMembers(body)) {
    if (!isEventMember(member.name)) continue;
    yield memberStart(member.name);
    try {
      for await (const batch of gunzipLines(member.data)) yield { kind: 'lines', batch };
    } catch (error) {
      if (error instanceof ZipFormatError) throw error;
      throw new ZipFormatError(`member ${member.name} is corrupt or truncated: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
