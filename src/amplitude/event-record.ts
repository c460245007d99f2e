// Exported events as we store them: each line as Amplitude sent it, byte for byte, except the seven
// top-level timestamps, rewritten from `YYYY-MM-DD HH:MM:SS.ffffff` (UTC) to RFC 3339 with `+00:00`
// exactly as Airbyte's connector writes them (amplitudeTimestampToRfc3339).
// Nested look-alike keys, number spellings, escapes and key order are untouched.
//
// The hot path works on bytes: a validating scan (json-scan.ts) finds the top-level timestamps and the
// rewrite copies byte ranges, with no parsing into objects and no re-serialising. A line the scan is
// unsure of (invalid, escaped keys or timestamps, repeated keys) takes the JSON.parse path, which
// names what is wrong or re-serialises.
import type { LineBatch } from './export-decoder.ts';
import { SCAN_FOUND, scanObject } from './json-scan.ts';
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
const NEWLINE = 0x0a;
const LETTER_T = 0x54;
const ZERO = 0x30;
const UTC_SUFFIX = Buffer.from('+00:00');
/** Most bytes a rewrite adds: the `+00:00` suffix, and zeros padding `.f` to six digits. */
const REWRITE_GROWTH = UTC_SUFFIX.length + 5;
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

const isDigit = (byte: number) => byte >= 0x30 && byte <= 0x39;
/** The separator at each position of `YYYY-MM-DD HH:MM:SS`, 0 where a digit belongs. */
const TIMESTAMP_SHAPE = Buffer.from('0000-00-00 00:00:00').map((byte) => (byte === ZERO ? 0 : byte));

/** isAmplitudeTimestamp of the bytes buffer[start, end). */
function isAmplitudeTimestampAt(buffer: Buffer, start: number, end: number): boolean {
  const length = end - start;
  if (length !== SECONDS_LENGTH && (length < SECONDS_LENGTH + 2 || length > SECONDS_LENGTH + 7)) return false;
  for (let i = 0; i < SECONDS_LENGTH; i++) {
    const expected = TIMESTAMP_SHAPE[i]!;
    const byte = buffer[start + i]!;
    if (expected === 0 ? !isDigit(byte) : byte !== expected) return false;
  }
  if (length === SECONDS_LENGTH) return true;
  if (buffer[start + SECONDS_LENGTH] !== 0x2e) return false;
  for (let i = start + SECONDS_LENGTH + 1; i < end; i++) if (!isDigit(buffer[i]!)) return false;
  return true;
}

/** `YYYY-MM-DD HH` */
const HOUR_PREFIX_LENGTH = 13;
/** The last upload hour's prefix and its hour: consecutive events mostly share it. */
const cachedHourPrefix = new Uint8Array(HOUR_PREFIX_LENGTH);
let cachedHour = Number.NaN;

/** The hour of the Amplitude timestamp at buffer[start, ...), which isAmplitudeTimestampAt accepted. */
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

const FIELD_BYTES = EVENT_TIMESTAMP_FIELDS.map((field) => Buffer.from(field));
const SERVER_UPLOAD_TIME = EVENT_TIMESTAMP_FIELDS.indexOf('server_upload_time');

/** Which timestamp field the key buffer[start, end) names, or -1. */
function timestampFieldAt(buffer: Uint8Array, start: number, end: number): number {
  const length = end - start;
  if (buffer[end - 1] !== 0x65 || buffer[end - 5] !== 0x5f) return -1; // not `…_time`
  fields: for (let index = 0; index < FIELD_BYTES.length; index++) {
    const field = FIELD_BYTES[index]!;
    if (field.length !== length) continue;
    for (let i = length - 1; i >= 0; i--) if (buffer[start + i] !== field[i]) continue fields;
    return index;
  }
  return -1;
}

/** Spans of the top-level timestamp fields' string values in the line just scanned. */
const valueStarts = new Int32Array(EVENT_TIMESTAMP_FIELDS.length);
const valueEnds = new Int32Array(EVENT_TIMESTAMP_FIELDS.length);

/**
 * The line's upload hour when the scan vouches for the line and its server_upload_time is an Amplitude
 * timestamp, with the rewrites queued; undefined sends the line down the JSON.parse path.
 */
function scanLine(buffer: Buffer, start: number, end: number): number | undefined {
  if (scanObject(buffer, start, end, timestampFieldAt, valueStarts, valueEnds) !== SCAN_FOUND)
    return undefined;
  const uploadStart = valueStarts[SERVER_UPLOAD_TIME]!;
  if (uploadStart === -1 || !isAmplitudeTimestampAt(buffer, uploadStart, valueEnds[SERVER_UPLOAD_TIME]!)) {
    return undefined;
  }
  const hour = hourAt(buffer, uploadStart);
  if (hour === undefined) return undefined;
  editOffsets.length = 0;
  editLengths.length = 0;
  for (let index = 0; index < valueStarts.length; index++) {
    const at = valueStarts[index]!;
    if (at !== -1 && isAmplitudeTimestampAt(buffer, at, valueEnds[index]!))
      addEdit(at, valueEnds[index]! - at);
  }
  return hour;
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
    if (value === undefined) continue;
    const at = valueStart(buffer, hit, end);
    if (at === -1 || !valueAt(buffer, at, end, value)) continue;
    if (offsets[index] !== -1) return { hour, inPlace: false };
    offsets[index] = at;
    found++;
    addEdit(at, value.length);
  }
  return { hour, inPlace: found === wanted };
}

/**
 * Copies source[from, to) to target at `at` and returns the bytes copied. Short runs are copied here:
 * Buffer#copy costs a few hundred nanoseconds a call on export data, more than a loop over ~100 bytes.
 */
function copyRun(source: Buffer, target: Buffer, at: number, from: number, to: number): number {
  const length = to - from;
  if (length > SHORT_RUN) return source.copy(target, at, from, to);
  for (let i = 0; i < length; i++) target[at + i] = source[from + i]!;
  return length;
}

const SHORT_RUN = 128;

/** Appends the line with the queued rewrites applied, and its newline. */
function appendRewritten(out: ByteBuilder, buffer: Buffer, start: number, end: number): void {
  out.reserve(end - start + editOffsets.length * REWRITE_GROWTH + 1);
  const target = out.buffer;
  let length = out.length;
  let from = start;
  for (let i = 0; i < editOffsets.length; i++) {
    const at = editOffsets[i]!;
    const to = at + editLengths[i]!;
    length += copyRun(buffer, target, length, from, at + SECONDS_LENGTH);
    target[length - SECONDS_LENGTH + 10] = LETTER_T;
    if (nonZeroFraction(buffer, at + SECONDS_LENGTH + 1, to)) {
      length += copyRun(buffer, target, length, at + SECONDS_LENGTH, to);
      for (let digits = to - at - SECONDS_LENGTH - 1; digits < 6; digits++) target[length++] = ZERO;
    }
    for (let k = 0; k < UTC_SUFFIX.length; k++) target[length++] = UTC_SUFFIX[k]!;
    from = to;
  }
  length += copyRun(buffer, target, length, from, end);
  target[length++] = NEWLINE;
  out.length = length;
}

/** Whether the fraction digits in buffer[start, end) are not all zero (Airbyte then writes them). */
function nonZeroFraction(buffer: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buffer[i] !== ZERO) return true;
  return false;
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

/**
 * Normalises a batch of export lines and groups them by upload hour. Throws EventRecordError for a
 * line that is not an event object with a valid server_upload_time.
 */
export function normaliseEvents(batch: LineBatch): Map<number, HourLines> {
  const builders = new Map<number, ByteBuilder>();
  const { buffer, bounds } = batch;
  let lastHour = Number.NaN;
  let out: ByteBuilder | undefined;
  for (let i = 0; i < bounds.length; i += 2) {
    const start = bounds[i]!;
    const end = bounds[i + 1]!;
    let hour = scanLine(buffer, start, end);
    let inPlace = true;
    if (hour === undefined) ({ hour, inPlace } = parseLine(buffer, start, end));
    if (hour !== lastHour) {
      out = builders.get(hour);
      if (!out) {
        const span = bounds[bounds.length - 1]! - bounds[0]!;
        out = new ByteBuilder(span + (bounds.length / 2) * (7 * REWRITE_GROWTH + 1));
        builders.set(hour, out);
      }
      lastHour = hour;
    }
    if (inPlace) appendRewritten(out!, buffer, start, end);
    else appendReserialised(out!, buffer, start, end);
    out!.records++;
  }
  const hours = new Map<number, HourLines>();
  for (const [hour, builder] of builders) {
    hours.set(hour, { bytes: builder.buffer.subarray(0, builder.length), records: builder.records });
  }
  return hours;
}

/** One line, normalised (for tools and tests; the export path uses normaliseEvents). */
export function normaliseEventLine(raw: string): { line: string; uploadHour: number } {
  const buffer = Buffer.from(raw);
  const [uploadHour, lines] = [...normaliseEvents({ buffer, bounds: [0, buffer.length] })][0]!;
  return { line: lines.bytes.toString('utf8', 0, lines.bytes.length - 1), uploadHour };
}
