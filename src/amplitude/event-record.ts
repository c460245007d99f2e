// Exported events as we store them: each line as Amplitude sent it, byte for byte, except the seven
// top-level timestamps, rewritten from `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) to RFC 3339 with `+00:00`
// exactly as Airbyte's connector writes them (amplitudeTimestampToRfc3339).
// Nested look-alike keys, number spellings, escapes and key order are untouched.
//
// The hot path works on bytes, in WebAssembly (event-scan.ts): a validating scan finds the top-level
// timestamps and the rewrite copies byte ranges, with no parsing into objects and no re-serialising. A
// line the scan is unsure of (invalid, escaped keys or timestamps, repeated keys) takes the JSON.parse
// path, which names what is wrong or re-serialises.
import { EventScanner } from './event-scan.ts';
import type { LineBatch } from './export-decoder.ts';
import { SpareBuffers } from './spare-buffers.ts';
import { amplitudeTimestampHour, amplitudeTimestampToRfc3339, isAmplitudeTimestamp } from './time.ts';

export const EVENT_TIMESTAMP_FIELDS = [
  'client_event_time',
  'client_upload_time',
  'event_time',
  'processed_time',
  'server_received_time',
  'server_upload_time',
  'user_creation_time',
] as const;

export class EventRecordError extends Error {
  override name = 'EventRecordError';
}

/** Newline-terminated output lines of one upload hour. */
export interface HourLines {
  bytes: Buffer;
  records: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const CLOSE_OBJECT = 0x7d;
const CLOSE_ARRAY = 0x5d;
/** Most bytes a line grows by: per timestamp the `+00:00` suffix and zeros padding `.f` to six digits, and the newline. */
const LINE_GROWTH = EVENT_TIMESTAMP_FIELDS.length * ('+00:00'.length + 5) + 1;
/** `YYYY-MM-DD HH:MM:SS` */
const SECONDS_LENGTH = 19;
/** Every timestamp key ends so: one scan of a chunk for it finds every candidate key, at any depth. */
const KEY_SUFFIX = Buffer.from('_time":');
/** Each field's name without `_time`, as bytes, for recognising the key that ends at a hit. */
const KEY_STEMS = EVENT_TIMESTAMP_FIELDS.map((field) => Buffer.from(field.slice(0, -'_time'.length)));

/** Output buffers handed back once written (see normaliser-thread.ts), reused before allocating. */
const spareOutputs = new SpareBuffers(8);

export function reuseOutputBuffer(memory: ArrayBuffer): void {
  spareOutputs.give(memory);
}

/** Never a slice of Node's shared pool: the bytes may move to another thread and come back. */
function outputBuffer(capacity: number): Buffer {
  return Buffer.from(spareOutputs.take(capacity));
}

/** A growable output buffer. */
class ByteBuilder {
  buffer: Buffer;
  length = 0;
  records = 0;

  constructor(capacity: number) {
    this.buffer = outputBuffer(capacity);
  }

  reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    const grown = outputBuffer(Math.max(this.buffer.length * 2, this.length + bytes));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }

  append(source: Buffer, start: number, end: number): void {
    this.reserve(end - start);
    this.length += source.copy(this.buffer, this.length, start, end);
  }

  byte(value: number): void {
    this.reserve(1);
    this.buffer[this.length++] = value;
  }

  text(value: string): void {
    this.reserve(Buffer.byteLength(value));
    this.length += this.buffer.write(value, this.length);
  }
}

/** The field whose key ends at `hit` (the `_time":` position), or -1 for any other key. */
function fieldAt(buffer: Buffer, hit: number, lineStart: number): number {
  stems: for (let index = 0; index < KEY_STEMS.length; index++) {
    const stem = KEY_STEMS[index]!;
    const quote = hit - stem.length - 1;
    if (quote < lineStart || buffer[quote] !== QUOTE) continue;
    for (let i = 0; i < stem.length; i++) if (buffer[quote + 1 + i] !== stem[i]) continue stems;
    return index;
  }
  return -1;
}

/** Where the string value after the key at `hit` starts, or -1 when the value is not a string. */
function valueStart(buffer: Buffer, hit: number, lineEnd: number): number {
  let at = hit + KEY_SUFFIX.length;
  if (buffer[at] === 0x20) at++;
  return at < lineEnd && buffer[at] === QUOTE ? at + 1 : -1;
}

/** Whether `value` (ASCII) followed by a closing quote sits at `at`. */
function valueAt(buffer: Buffer, at: number, lineEnd: number, value: string): boolean {
  if (at + value.length >= lineEnd || buffer[at + value.length] !== QUOTE) return false;
  for (let i = 0; i < value.length; i++) if (buffer[at + i] !== value.charCodeAt(i)) return false;
  return true;
}

/** Positions of every `_time":` in buffer[start, end), ascending. */
function keyHits(buffer: Buffer, start: number, end: number): number[] {
  const hits: number[] = [];
  let at = buffer.indexOf(KEY_SUFFIX, start);
  while (at !== -1 && at < end) {
    hits.push(at);
    at = buffer.indexOf(KEY_SUFFIX, at + KEY_SUFFIX.length);
  }
  return hits;
}

/**
 * Parses a line for its structure and its top-level timestamps. The bytes are read as Latin-1, which
 * V8 parses about half again as fast as decoded UTF-8: every byte of a multi-byte UTF-8 character is
 * >= 0x80, so quotes, backslashes and brackets are found exactly as in the decoded text, and the
 * timestamps are ASCII. Other string values come out garbled, but they are never used: the output is
 * copied from the bytes (and the rare re-serialised line is parsed again as UTF-8).
 */
function parseStructure(buffer: Buffer, start: number, end: number): Record<string, unknown> {
  let event: unknown;
  try {
    event = JSON.parse(buffer.toString('latin1', start, end));
  } catch (error) {
    throw new EventRecordError(
      `a line is not JSON (${(error as Error).message}): ${excerpt(buffer, start, end)}`,
    );
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new EventRecordError(`a line is not a JSON object: ${excerpt(buffer, start, end)}`);
  }
  return event as Record<string, unknown>;
}

function excerpt(buffer: Buffer, start: number, end: number): string {
  return buffer.toString('utf8', start, Math.min(end, start + 120));
}

function uploadHourOf(event: Record<string, unknown>, buffer: Buffer, start: number, end: number): number {
  const uploadTime = event.server_upload_time;
  const hour = typeof uploadTime === 'string' ? amplitudeTimestampHour(uploadTime) : undefined;
  if (hour !== undefined) return hour;
  throw new EventRecordError(
    `an event has no valid server_upload_time (${JSON.stringify(uploadTime)}), so it cannot be placed in an hour: ${excerpt(buffer, start, end)}`,
  );
}

/** `YYYY-MM-DD HH` */
const HOUR_PREFIX_LENGTH = 13;
/** The last upload hour's prefix and its hour: consecutive events mostly share it. */
const cachedHourPrefix = new Uint8Array(HOUR_PREFIX_LENGTH);
let cachedHour = Number.NaN;

/** The hour of the Amplitude timestamp at buffer[start, ...), which the scan accepted as one. */
function hourAt(buffer: Buffer, start: number): number | undefined {
  let same = !Number.isNaN(cachedHour);
  for (let i = 0; same && i < HOUR_PREFIX_LENGTH; i++) same = buffer[start + i] === cachedHourPrefix[i];
  if (same) return cachedHour;
  const hour = amplitudeTimestampHour(buffer.toString('latin1', start, start + SECONDS_LENGTH));
  if (hour === undefined) return undefined;
  cachedHourPrefix.set(buffer.subarray(start, start + HOUR_PREFIX_LENGTH));
  cachedHour = hour;
  return hour;
}

/** The values to rewrite in the current line: byte offsets in ascending order, with their lengths. */
const editOffsets: number[] = [];
const editLengths: number[] = [];

function addEdit(offset: number, length: number): void {
  let i = editOffsets.length;
  editOffsets.push(offset);
  editLengths.push(length);
  for (; i > 0 && editOffsets[i - 1]! > offset; i--) {
    editOffsets[i] = editOffsets[i - 1]!;
    editLengths[i] = editLengths[i - 1]!;
    editOffsets[i - 1] = offset;
    editLengths[i - 1] = length;
  }
}

/**
 * Whether buffer[at] lies directly in the line's outermost object, outside strings: a nested key with
 * the same name and value must not pass for a top-level one spelled with escapes.
 */
function atTopLevel(buffer: Buffer, start: number, at: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = start; i < at; i++) {
    const byte = buffer[i]!;
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) {
      inString = true;
    } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
      depth++;
    } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
      depth--;
    }
  }
  return depth === 1 && !inString;
}

const values: Array<string | undefined> = new Array(EVENT_TIMESTAMP_FIELDS.length);
const offsets: number[] = new Array(EVENT_TIMESTAMP_FIELDS.length);

/**
 * The JSON.parse path for a line the scan was unsure of: throws for a line that is not an event
 * object, else queues the rewrites and returns false when the line must be re-serialised. Each
 * top-level timestamp must occur exactly once in the raw line as that key with that value; a nested
 * look-alike with the same value, or a value spelled with escapes, leaves no single place to rewrite.
 */
function parseLine(buffer: Buffer, start: number, end: number): { hour: number; inPlace: boolean } {
  const event = parseStructure(buffer, start, end);
  const hour = uploadHourOf(event, buffer, start, end);
  let wanted = 0;
  for (let index = 0; index < EVENT_TIMESTAMP_FIELDS.length; index++) {
    const value = event[EVENT_TIMESTAMP_FIELDS[index]!];
    const rewritable = typeof value === 'string' && isAmplitudeTimestamp(value);
    values[index] = rewritable ? value : undefined;
    offsets[index] = -1;
    if (rewritable) wanted++;
  }
  let found = 0;
  editOffsets.length = 0;
  editLengths.length = 0;
  for (const hit of keyHits(buffer, start, end)) {
    const index = fieldAt(buffer, hit, start);
    const value = index === -1 ? undefined : values[index];
    if (value === undefined || !atTopLevel(buffer, start, hit)) continue;
    const at = valueStart(buffer, hit, end);
    if (at === -1 || !valueAt(buffer, at, end, value)) continue;
    if (offsets[index] !== -1) return { hour, inPlace: false };
    offsets[index] = at;
    found++;
    addEdit(at, value.length);
  }
  return { hour, inPlace: found === wanted };
}

function appendReserialised(out: ByteBuilder, buffer: Buffer, start: number, end: number): void {
  const event = JSON.parse(buffer.toString('utf8', start, end)) as Record<string, unknown>;
  for (const field of EVENT_TIMESTAMP_FIELDS) {
    const value = event[field];
    if (typeof value === 'string') event[field] = amplitudeTimestampToRfc3339(value) ?? value;
  }
  out.text(JSON.stringify(event));
  out.byte(NEWLINE);
}

/** Writes the line scanner.bytes[start, end) at `out` with the queued rewrites; the offset after it. */
function rewriteInPlace(
  scanner: EventScanner,
  base: number,
  start: number,
  end: number,
  out: number,
): number {
  for (let i = 0; i < editOffsets.length; i++) {
    scanner.edits[2 * i] = editOffsets[i]! - base;
    scanner.edits[2 * i + 1] = editLengths[i]!;
  }
  return scanner.rewriteLine(start, end, out, editOffsets.length);
}

let eventScanner: EventScanner | undefined;
const SERVER_UPLOAD_TIME = EVENT_TIMESTAMP_FIELDS.indexOf('server_upload_time');

/**
 * Normalises a batch of export lines and groups them by upload hour. Throws EventRecordError for a
 * line that is not an event object with a valid server_upload_time.
 */
export function normaliseEvents(batch: LineBatch): Map<number, HourLines> {
  const { buffer, bounds } = batch;
  const hours = new Map<number, HourLines>();
  if (bounds.length === 0) return hours;
  eventScanner ??= new EventScanner(EVENT_TIMESTAMP_FIELDS);
  const scanner = eventScanner;
  const base = bounds[0]!;
  const span = bounds[bounds.length - 1]! - base;
  const capacity = span + (bounds.length / 2) * LINE_GROWTH;
  const builders = new Map<number, ByteBuilder>();
  const builder = (hour: number) => {
    const existing = builders.get(hour);
    if (existing) return existing;
    const created = new ByteBuilder(capacity);
    builders.set(hour, created);
    return created;
  };
  // Lines are written one after another into the scanner's memory and moved out a run of one hour at a time.
  let out = scanner.load(buffer, base, base + span, capacity);
  let runStart = out;
  let runHour = Number.NaN;
  let lines: ByteBuilder | undefined;
  const endRun = () => {
    if (out > runStart) builder(runHour).append(scanner.bytes, runStart, out);
    runStart = out;
  };
  for (let i = 0; i < bounds.length; i += 2) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    let written = scanner.normaliseLine(start - base, end - base, out, SERVER_UPLOAD_TIME);
    let hour = written === -1 ? undefined : hourAt(scanner.bytes, scanner.starts[SERVER_UPLOAD_TIME]!);
    if (hour === undefined) {
      const parsed = parseLine(buffer, start, end);
      hour = parsed.hour;
      written = parsed.inPlace ? rewriteInPlace(scanner, base, start - base, end - base, out) : -1;
    }
    if (hour !== runHour) {
      endRun();
      runHour = hour;
      lines = builder(hour);
    }
    lines!.records++;
    if (written !== -1) {
      out = written;
      continue;
    }
    endRun();
    appendReserialised(lines!, buffer, start, end);
  }
  endRun();
  for (const [hour, lines] of builders) {
    hours.set(hour, { bytes: lines.buffer.subarray(0, lines.length), records: lines.records });
  }
  return hours;
}

/** One line, normalised (for tools and tests; the export path uses normaliseEvents). */
export function normaliseEventLine(raw: string): { line: string; uploadHour: number } {
  const buffer = Buffer.from(raw);
  const [uploadHour, lines] = [...normaliseEvents({ buffer, bounds: [0, buffer.length] })][0]!;
  return { line: lines.bytes.toString('utf8', 0, lines.bytes.length - 1), uploadHour };
}
