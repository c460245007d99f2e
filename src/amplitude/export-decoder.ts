// Export API body -> event lines, streamed: zip members -> gunzip -> lines, with backpressure (the next
// bytes are read only when the consumer asks for the next batch).
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { ZipFormatError, zipMembers } from './zip-stream.ts';

export type ExportChunk =
  | {
      kind: 'member';
      name: string /** Upload hour from the member name, when it follows Amplitude's naming. */;
      hour?: number;
    }
  | { kind: 'lines'; lines: string[] };

const MEMBER_NAME = /_(\d{4})-(\d{2})-(\d{2})_(\d{1,2})#\d+\.json\.gz$/;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const GUNZIP_CHUNK = 256 * 1024;

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
 * multi-byte UTF-8 sequence, and decoded only once complete; U+2028/U+2029 stay inside their line.
 */
export class LineSplitter {
  #rest: Buffer | undefined;

  push(chunk: Buffer): string[] {
    const buffer = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    const lines: string[] = [];
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE); end !== -1; end = buffer.indexOf(NEWLINE, start)) {
      const stop = end > start && buffer[end - 1] === CARRIAGE_RETURN ? end - 1 : end;
      if (stop > start) lines.push(buffer.toString('utf8', start, stop));
      start = end + 1;
    }
    this.#rest = start < buffer.length ? buffer.subarray(start) : undefined;
    return lines;
  }

  /** The last line when the data does not end with a newline. */
  end(): string[] {
    const rest = this.#rest;
    this.#rest = undefined;
    if (!rest) return [];
    const stop = rest[rest.length - 1] === CARRIAGE_RETURN ? rest.length - 1 : rest.length;
    return stop > 0 ? [rest.toString('utf8', 0, stop)] : [];
  }
}

/** The lines of one gzip member (several concatenated gzip streams are read as one). */
export async function* gunzipLines(gzipped: AsyncIterable<Buffer>): AsyncGenerator<string[]> {
  const source = Readable.from(gzipped, { objectMode: false });
  const gunzip = createGunzip({ chunkSize: GUNZIP_CHUNK });
  source.on('error', (error) => gunzip.destroy(error));
  source.pipe(gunzip);
  const splitter = new LineSplitter();
  try {
    for await (const chunk of gunzip) {
      const lines = splitter.push(chunk as Buffer);
      if (lines.length > 0) yield lines;
    }
    const last = splitter.end();
    if (last.length > 0) yield last;
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
    const hour = memberHour(member.name);
    yield hour === undefined
      ? { kind: 'member', name: member.name }
      : { kind: 'member', name: member.name, hour };
    try {
      for await (const lines of gunzipLines(member.data)) yield { kind: 'lines', lines };
    } catch (error) {
      if (error instanceof ZipFormatError) throw error;
      throw new ZipFormatError(`member ${member.name} is corrupt or truncated: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}
