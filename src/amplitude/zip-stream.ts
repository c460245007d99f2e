// Streaming reader of ZIP archives: yields each member's bytes as they arrive, never holding a member
// or the archive in memory. Handles sizes in the local header, data descriptors (streamed zips, with
// the signature, 32- or 64-bit sizes), stored and deflated members. Nothing is read from the central
// directory, which comes last.

import { Readable } from 'node:stream';
import { createInflateRaw } from 'node:zlib';

export class ZipFormatError extends Error {
  override name = 'ZipFormatError';
}

export interface ZipMember {
  name: string;
  /** The member's bytes (inflated when the member is deflated). Consume or skip it before the next member. */
  data: AsyncIterable<Buffer>;
}

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const ZIP64_END_OF_CENTRAL_DIRECTORY = 0x06064b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const DATA_DESCRIPTOR_SIGNATURE = Buffer.from([0x50, 0x4b, 0x07, 0x08]);
const HAS_DATA_DESCRIPTOR = 0x08;
const STORED = 0;
const DEFLATED = 8;
/** Bytes kept back while scanning for a data descriptor: a 64-bit descriptor plus the next signature. */
const DESCRIPTOR_LOOKAHEAD = 28;
const EMPTY = Buffer.alloc(0);

/** Pulls bytes from an async iterable on demand. */
class ByteSource {
  #chunks: AsyncIterator<Uint8Array>;
  buffer: Buffer = EMPTY;
  ended = false;

  constructor(body: AsyncIterable<Uint8Array>) {
    this.#chunks = body[Symbol.asyncIterator]();
  }

  /** Reads one more chunk into the buffer; false at the end of the body. */
  async more(): Promise<boolean> {
    if (this.ended) return false;
    const next = await this.#chunks.next();
    if (next.done) {
      this.ended = true;
      return false;
    }
    const chunk = Buffer.isBuffer(next.value)
      ? next.value
      : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    return true;
  }

  async ensure(bytes: number): Promise<boolean> {
    while (this.buffer.length < bytes) if (!(await this.more())) return false;
    return true;
  }

  take(bytes: number): Buffer {
    const taken = this.buffer.subarray(0, bytes);
    this.buffer = this.buffer.subarray(bytes);
    return taken;
  }

  async drain(): Promise<void> {
    this.buffer = EMPTY;
    while (await this.more()) this.buffer = EMPTY;
  }

  async close(): Promise<void> {
    await this.#chunks.return?.();
  }
}

interface LocalHeader {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
}

function zip64CompressedSize(
  extra: Buffer,
  uncompressed32: number,
  compressed32: number,
): number | undefined {
  for (let at = 0; at + 4 <= extra.length; ) {
    const id = extra.readUInt16LE(at);
    const size = extra.readUInt16LE(at + 2);
    if (id === 0x0001) {
      // The zip64 field lists only the sizes whose 32-bit slot is 0xFFFFFFFF, uncompressed first.
      let offset = at + 4;
      if (uncompressed32 === 0xffffffff) offset += 8;
      if (compressed32 === 0xffffffff && offset + 8 <= at + 4 + size)
        return Number(extra.readBigUInt64LE(offset));
      return undefined;
    }
    at += 4 + size;
  }
  return undefined;
}

async function readLocalHeader(source: ByteSource): Promise<LocalHeader> {
  if (!(await source.ensure(30)))
    throw new ZipFormatError('the archive ends inside a member header (truncated)');
  const head = source.buffer;
  const nameLength = head.readUInt16LE(26);
  const extraLength = head.readUInt16LE(28);
  if (!(await source.ensure(30 + nameLength + extraLength))) {
    throw new ZipFormatError('the archive ends inside a member header (truncated)');
  }
  const header = source.take(30 + nameLength + extraLength);
  const flags = header.readUInt16LE(6);
  const compressed32 = header.readUInt32LE(18);
  const uncompressed32 = header.readUInt32LE(22);
  const name = header.toString('utf8', 30, 30 + nameLength);
  const extra = header.subarray(30 + nameLength);
  const compressedSize =
    compressed32 === 0xffffffff
      ? (zip64CompressedSize(extra, uncompressed32, compressed32) ?? -1)
      : compressed32;
  return { name, flags, method: header.readUInt16LE(8), compressedSize };
}

/** The stored bytes of a member whose size the local header gives. */
async function* sizedData(source: ByteSource, size: number, name: string): AsyncGenerator<Buffer> {
  let remaining = size;
  while (remaining > 0) {
    if (source.buffer.length === 0 && !(await source.more())) {
      throw new ZipFormatError(`the archive ends inside member ${name} (truncated)`);
    }
    const piece = source.take(Math.min(remaining, source.buffer.length));
    remaining -= piece.length;
    yield piece;
  }
}

/**
 * The stored bytes of a member followed by a data descriptor. A descriptor is accepted only where its
 * compressed size equals the bytes seen and the next record's signature follows it, so descriptor-like
 * bytes inside the data are never mistaken for the end.
 */
async function* descriptorData(source: ByteSource, name: string): AsyncGenerator<Buffer> {
  let seen = 0;
  let searchFrom = 0;
  for (;;) {
    const buffer = source.buffer;
    const at = buffer.indexOf(DATA_DESCRIPTOR_SIGNATURE, searchFrom);
    if (at !== -1) {
      if (buffer.length < at + DESCRIPTOR_LOOKAHEAD && !source.ended) {
        await source.more();
        continue;
      }
      const descriptorLength = descriptorEndingAt(buffer, at, seen + at);
      if (descriptorLength > 0) {
        if (at > 0) yield source.take(at);
        source.take(descriptorLength);
        return;
      }
      searchFrom = at + 1;
      continue;
    }
    // Everything but a tail that could begin a signature is member data. Passing the rest on whole
    // leaves the buffer empty, so the next chunk is not copied onto it.
    const safe = buffer.length - signaturePrefixAtEnd(buffer);
    if (safe > 0) {
      seen += safe;
      searchFrom = Math.max(0, searchFrom - safe);
      yield source.take(safe);
    }
    if (!(await source.more()))
      throw new ZipFormatError(`the archive ends inside member ${name} (truncated)`);
  }
}

/** How many bytes at the end of `buffer` are the start of a data-descriptor signature (0 to 3). */
function signaturePrefixAtEnd(buffer: Buffer): number {
  for (let length = Math.min(3, buffer.length); length > 0; length--) {
    if (buffer.subarray(buffer.length - length).equals(DATA_DESCRIPTOR_SIGNATURE.subarray(0, length)))
      return length;
  }
  return 0;
}

function isRecordSignature(buffer: Buffer, at: number): boolean {
  if (at + 4 > buffer.length) return false;
  const signature = buffer.readUInt32LE(at);
  return signature === LOCAL_HEADER || signature === CENTRAL_HEADER || signature === END_OF_CENTRAL_DIRECTORY;
}

/** Length of a valid descriptor at `at` for a member of `dataLength` bytes, or 0. */
function descriptorEndingAt(buffer: Buffer, at: number, dataLength: number): number {
  if (
    at + 16 <= buffer.length &&
    buffer.readUInt32LE(at + 8) === dataLength % 2 ** 32 &&
    isRecordSignature(buffer, at + 16)
  ) {
    return 16;
  }
  if (
    at + 24 <= buffer.length &&
    Number(buffer.readBigUInt64LE(at + 8)) === dataLength &&
    isRecordSignature(buffer, at + 24)
  ) {
    return 24;
  }
  return 0;
}

/**
 * Walks the central directory to its end record, so an archive cut short after its last member is
 * still noticed, and checks that it lists as many members as were read.
 */
async function readCentralDirectory(source: ByteSource, membersRead: number): Promise<void> {
  const truncated = () => new ZipFormatError('the archive ends inside its central directory (truncated)');
  let listed = 0;
  for (;;) {
    if (!(await source.ensure(4))) throw truncated();
    const signature = source.buffer.readUInt32LE(0);
    if (signature === CENTRAL_HEADER) {
      if (!(await source.ensure(46))) throw truncated();
      const variable =
        source.buffer.readUInt16LE(28) + source.buffer.readUInt16LE(30) + source.buffer.readUInt16LE(32);
      if (!(await source.ensure(46 + variable))) throw truncated();
      source.take(46 + variable);
      listed++;
    } else if (signature === ZIP64_END_OF_CENTRAL_DIRECTORY || signature === ZIP64_END_LOCATOR) {
      if (!(await source.ensure(12))) throw truncated();
      const length = signature === ZIP64_END_LOCATOR ? 20 : 12 + Number(source.buffer.readBigUInt64LE(4));
      if (!(await source.ensure(length))) throw truncated();
      source.take(length);
    } else if (signature === END_OF_CENTRAL_DIRECTORY) {
      if (!(await source.ensure(22))) throw truncated();
      break;
    } else {
      throw new ZipFormatError('the archive is corrupt: unexpected bytes in its central directory');
    }
  }
  if (listed !== membersRead) {
    throw new ZipFormatError(`the archive lists ${listed} members but ${membersRead} were read`);
  }
  await source.drain();
}

async function* inflated(stored: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const source = Readable.from(stored);
  const inflate = createInflateRaw();
  source.on('error', (error) => inflate.destroy(error));
  source.pipe(inflate);
  try {
    for await (const chunk of inflate) yield chunk as Buffer;
  } finally {
    source.destroy();
    inflate.destroy();
  }
}

/**
 * Yields the members of a ZIP archive in order. Read each member's data to its end, or not at all (it is
 * then skipped), before asking for the next member. Throws ZipFormatError when the body is
 * not a ZIP or is cut short.
 */
export async function* zipMembers(body: AsyncIterable<Uint8Array>): AsyncGenerator<ZipMember> {
  const source = new ByteSource(body);
  try {
    if (!(await source.ensure(4))) throw new ZipFormatError('the body is empty, not a ZIP archive');
    const first = source.buffer.readUInt32LE(0);
    if (first !== LOCAL_HEADER && first !== END_OF_CENTRAL_DIRECTORY) {
      await source.ensure(120);
      const excerpt = source.buffer
        .toString('utf8', 0, Math.min(120, source.buffer.length))
        .replace(/\s+/g, ' ');
      throw new ZipFormatError(`the body is not a ZIP archive (it starts with "${excerpt}")`);
    }
    let members = 0;
    for (;;) {
      if (!(await source.ensure(4)))
        throw new ZipFormatError('the archive ends without its central directory (truncated)');
      const signature = source.buffer.readUInt32LE(0);
      if (signature === CENTRAL_HEADER || signature === END_OF_CENTRAL_DIRECTORY) break;
      members++;
      if (signature !== LOCAL_HEADER)
        throw new ZipFormatError('the archive is corrupt: expected a member header');
      const header = await readLocalHeader(source);
      const viaDescriptor = (header.flags & HAS_DATA_DESCRIPTOR) !== 0 || header.compressedSize < 0;
      if (header.method !== STORED && header.method !== DEFLATED) {
        throw new ZipFormatError(
          `member ${header.name} uses compression method ${header.method}, which is not supported`,
        );
      }
      const stored = viaDescriptor
        ? descriptorData(source, header.name)
        : sizedData(source, header.compressedSize, header.name);
      const data = header.method === DEFLATED ? inflated(stored) : stored;
      let consumed = false;
      const member: ZipMember = {
        name: header.name,
        data: {
          [Symbol.asyncIterator]() {
            consumed = true;
            return data[Symbol.asyncIterator]();
          },
        },
      };
      yield member;
      if (!consumed) for await (const _ of stored); // skips a member the consumer did not read
    }
    await readCentralDirectory(source, members);
  } finally {
    await source.close();
  }
}
