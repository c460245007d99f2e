// AssemblyScript source of src/amplitude/event-scan.wasm (`npm run build:wasm`), driven by
// src/amplitude/event-scan.ts. Two jobs on export lines held in linear memory, building nothing:
// - a validating scan of one JSON object, which accepts exactly the texts JSON.parse accepts as an object
//   (bytes >= 0x80 inside strings taken as they come) and reports where chosen top-level string values
//   sit, with strings skipped 16 bytes at a time;
// - the rewrite of chosen top-level Amplitude timestamps (`YYYY-MM-DD HH:MM:SS[.f{1,6}]`, UTC) to
//   RFC 3339 with `+00:00`, as Airbyte's connector writes them: `T` for the space, the fraction kept
//   (padded to six digits) unless it is all zeros.
//
// Memory, laid out by the caller (all offsets it passes and reads are from INPUT):
//   [KEYS, KEYS + 1024)         the chosen keys: for each, one length byte and its bytes
//   [SPAN_STARTS, +64), [SPAN_ENDS, +64)  where the chosen keys' values start and end (16 i32 each)
//   [EDITS, EDITS + 128)        the values to rewrite: (offset, length) i32 pairs, ascending
//   [STACK, STACK + MAX_DEPTH)  open containers, innermost last: 1 for an object
//   [INPUT, ...)                lines, followed by at least 16 bytes that are not plain string characters,
//                               and room for the output where the caller says

export const KEYS: usize = 0;
export const MAX_KEYS: i32 = 16;
export const SPAN_STARTS: usize = 1024;
export const SPAN_ENDS: usize = 1088;
export const EDITS: usize = 1152;
const STACK: usize = 2048;
const MAX_DEPTH: i32 = 4096;
export const INPUT: usize = 8192;

const SCAN_FOUND: i32 = 0;
/** Valid JSON or not, the caller needs JSON.parse: not an object, not JSON, too deep, an escaped top-level key, an escaped or repeated chosen value. */
const SCAN_UNSURE: i32 = 1;

const QUOTE: u8 = 0x22;
const BACKSLASH: u8 = 0x5c;
const OPEN_BRACE: u8 = 0x7b;
const CLOSE_BRACE: u8 = 0x7d;
const OPEN_BRACKET: u8 = 0x5b;
const CLOSE_BRACKET: u8 = 0x5d;
const COMMA: u8 = 0x2c;
const COLON: u8 = 0x3a;
const MINUS: u8 = 0x2d;
const PLUS: u8 = 0x2b;
const DOT: u8 = 0x2e;
const ZERO: u8 = 0x30;
const NINE: u8 = 0x39;
const NEWLINE: u8 = 0x0a;
const LETTER_T: u8 = 0x54;

let keyCount: i32 = 0;
/** Bit n set when a chosen key is n bytes long (n < 64): most keys are told apart by length alone. */
let keyLengths: u64 = 0;
let hasLongKey = false;
/** Whether the string just scanned held a backslash escape. */
let escaped = false;

/** Declares the chosen keys written at KEYS. */
export function setKeyCount(count: i32): void {
  keyCount = count < MAX_KEYS ? count : MAX_KEYS;
  keyLengths = 0;
  hasLongKey = false;
  let entry = KEYS;
  for (let key = 0; key < keyCount; key++) {
    const keyLength = <u64>load<u8>(entry);
    if (keyLength < 64) keyLengths |= (<u64>1) << keyLength;
    else hasLongKey = true;
    entry += 1 + <usize>keyLength;
  }
}

@inline function byteAt(at: usize): u8 {
  return load<u8>(at);
}

@inline function isDigit(byte: u8): bool {
  return byte >= ZERO && byte <= NINE;
}

@inline function isWhitespace(byte: u8): bool {
  return byte == 0x20 || byte == 0x09 || byte == 0x0a || byte == 0x0d;
}

@inline function isHex(byte: u8): bool {
  return isDigit(byte) || (byte >= 0x61 && byte <= 0x66) || (byte >= 0x41 && byte <= 0x46);
}

@inline function spanStart(key: i32): i32 {
  return load<i32>(SPAN_STARTS + (<usize>key << 2));
}

@inline function spanEnd(key: i32): i32 {
  return load<i32>(SPAN_ENDS + (<usize>key << 2));
}

@inline function setSpanStart(key: i32, at: usize): void {
  store<i32>(SPAN_STARTS + (<usize>key << 2), <i32>(at - INPUT));
}

@inline function setSpanEnd(key: i32, at: usize): void {
  store<i32>(SPAN_ENDS + (<usize>key << 2), <i32>(at - INPUT));
}

/** The index after the closing quote of the string whose first character is at `at`, or 0. */
function scanString(at: usize, end: usize): usize {
  const quote = i8x16.splat(<i8>QUOTE);
  const backslash = i8x16.splat(<i8>BACKSLASH);
  const space = i8x16.splat(0x20);
  let i = at;
  escaped = false;
  while (true) {
    const chunk = v128.load(i);
    const stops = v128.or(
      v128.or(i8x16.eq(chunk, quote), i8x16.eq(chunk, backslash)),
      i8x16.lt_u(chunk, space),
    );
    const mask = i8x16.bitmask(stops);
    if (mask == 0) {
      i += 16;
      continue;
    }
    i += <usize>ctz<i32>(mask);
    if (i >= end) return 0;
    const byte = byteAt(i);
    if (byte == QUOTE) return i + 1;
    if (byte != BACKSLASH) return 0; // a control character
    escaped = true;
    const next = byteAt(i + 1);
    if (
      next == QUOTE ||
      next == BACKSLASH ||
      next == 0x2f ||
      next == 0x62 ||
      next == 0x66 ||
      next == 0x6e ||
      next == 0x72 ||
      next == 0x74
    ) {
      i += 2;
    } else if (next == 0x75) {
      if (i + 6 > end) return 0;
      if (!(isHex(byteAt(i + 2)) && isHex(byteAt(i + 3)) && isHex(byteAt(i + 4)) && isHex(byteAt(i + 5))))
        return 0;
      i += 6;
    } else {
      return 0;
    }
  }
  return 0;
}

function skipDigits(at: usize, end: usize): usize {
  let i = at;
  while (i < end && isDigit(byteAt(i))) i++;
  return i;
}

/** The index after the number starting at `at`, or 0. */
function scanNumber(at: usize, end: usize): usize {
  let i = at;
  if (byteAt(i) == MINUS) i++;
  if (i >= end) return 0;
  if (byteAt(i) == ZERO) i++;
  else if (isDigit(byteAt(i))) i = skipDigits(i + 1, end);
  else return 0;
  if (i < end && byteAt(i) == DOT) {
    const digits = skipDigits(i + 1, end);
    if (digits == i + 1) return 0;
    i = digits;
  }
  if (i < end && (byteAt(i) == 0x65 || byteAt(i) == 0x45)) {
    i++;
    if (i < end && (byteAt(i) == PLUS || byteAt(i) == MINUS)) i++;
    const digits = skipDigits(i, end);
    if (digits == i) return 0;
    i = digits;
  }
  return i;
}

/** `true`, `false` and `null` as four-byte words (`fals` for false), little-endian. */
const TRUE: u32 = 0x65757274;
const FALS: u32 = 0x736c6166;
const NULL: u32 = 0x6c6c756e;

/** The index after `true`, `false` or `null` at `at`, or 0. */
function scanLiteral(at: usize, end: usize): usize {
  if (at + 4 > end) return 0;
  const word = load<u32>(at);
  if (word == NULL || word == TRUE) return at + 4;
  return word == FALS && at + 5 <= end && byteAt(at + 4) == 0x65 ? at + 5 : 0;
}

/** The first index from `at` that is not whitespace (compact JSON has none: one test). */
@inline function skipWhitespace(at: usize, end: usize): usize {
  if (at >= end || !isWhitespace(byteAt(at))) return at;
  let i = at + 1;
  while (i < end && isWhitespace(byteAt(i))) i++;
  return i;
}

/** Which chosen key the unescaped top-level key at [start, end) is, or -1. */
function keyIndex(start: usize, end: usize): i32 {
  const length = <i32>(end - start);
  if (length < 64 ? ((keyLengths >> (<u64>length)) & 1) == 0 : !hasLongKey) return -1;
  let entry = KEYS;
  for (let key = 0; key < keyCount; key++) {
    const keyLength = <i32>load<u8>(entry);
    if (keyLength == length && memory.compare(entry + 1, start, <usize>length) == 0) return key;
    entry += 1 + <usize>keyLength;
  }
  return -1;
}

/**
 * Scans the JSON text at [start, end). On SCAN_FOUND the spans say where each chosen key's string value
 * sits (without its quotes), and are -1 when the key is absent or its value is not a string.
 */
export function scanObject(startOffset: i32, endOffset: i32): i32 {
  const start = INPUT + <usize>startOffset;
  const end = INPUT + <usize>endOffset;
  for (let key = 0; key < keyCount; key++) {
    store<i32>(SPAN_STARTS + (<usize>key << 2), -1);
    store<i32>(SPAN_ENDS + (<usize>key << 2), -1);
  }
  let i = skipWhitespace(start, end);
  if (i >= end || byteAt(i) != OPEN_BRACE) return SCAN_UNSURE;
  i++;
  let depth: i32 = 1;
  store<u8>(STACK, 1);
  /** The chosen key whose value comes next, or -1. */
  let chosen: i32 = -1;
  // Each turn starts where an object member (key) or an array element is due, or a close.
  let afterOpen = true;
  while (true) {
    i = skipWhitespace(i, end);
    const inObject = load<u8>(STACK + <usize>(depth - 1)) == 1;
    if (afterOpen && i < end && byteAt(i) == (inObject ? CLOSE_BRACE : CLOSE_BRACKET)) {
      i++;
      depth--;
    } else {
      chosen = -1;
      if (inObject) {
        if (i >= end || byteAt(i) != QUOTE) return SCAN_UNSURE;
        const keyEnd = scanString(i + 1, end);
        if (keyEnd == 0) return SCAN_UNSURE;
        if (depth == 1) {
          if (escaped) return SCAN_UNSURE;
          chosen = keyIndex(i + 1, keyEnd - 1);
          if (chosen != -1 && spanStart(chosen) != -1) return SCAN_UNSURE;
        }
        i = skipWhitespace(keyEnd, end);
        if (i >= end || byteAt(i) != COLON) return SCAN_UNSURE;
        i = skipWhitespace(i + 1, end);
      }
      if (i >= end) return SCAN_UNSURE;
      const byte = byteAt(i);
      if (byte == QUOTE) {
        const valueEnd = scanString(i + 1, end);
        if (valueEnd == 0) return SCAN_UNSURE;
        if (chosen != -1) {
          if (escaped) return SCAN_UNSURE;
          setSpanStart(chosen, i + 1);
          setSpanEnd(chosen, valueEnd - 1);
        }
        i = valueEnd;
      } else if (byte == OPEN_BRACE || byte == OPEN_BRACKET) {
        if (chosen != -1) setSpanStart(chosen, i); // found, not a string: a repeat is still caught
        if (depth == MAX_DEPTH) return SCAN_UNSURE;
        store<u8>(STACK + <usize>depth, byte == OPEN_BRACE ? 1 : 0);
        depth++;
        i++;
        afterOpen = true;
        continue;
      } else {
        if (chosen != -1) setSpanStart(chosen, i);
        i = byte == MINUS || isDigit(byte) ? scanNumber(i, end) : scanLiteral(i, end);
        if (i == 0) return SCAN_UNSURE;
      }
    }
    // A value (or a container) just ended: a comma, or the close of the container it is in.
    while (true) {
      if (depth == 0) {
        if (skipWhitespace(i, end) != end) return SCAN_UNSURE;
        for (let key = 0; key < keyCount; key++) {
          if (spanEnd(key) == -1) store<i32>(SPAN_STARTS + (<usize>key << 2), -1);
        }
        return SCAN_FOUND;
      }
      i = skipWhitespace(i, end);
      if (i >= end) return SCAN_UNSURE;
      const byte = byteAt(i);
      if (byte == COMMA) {
        i++;
        afterOpen = false;
        break;
      }
      if (byte != (load<u8>(STACK + <usize>(depth - 1)) == 1 ? CLOSE_BRACE : CLOSE_BRACKET)) return SCAN_UNSURE;
      i++;
      depth--;
    }
  }
  return SCAN_UNSURE;
}

/** `YYYY-MM-DD HH:MM:SS` */
const SECONDS_LENGTH: usize = 19;

/** Whether [start, end) is `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1 to 6 digits. */
function isAmplitudeTimestamp(startOffset: i32, endOffset: i32): bool {
  const start = INPUT + <usize>startOffset;
  const length = <usize>(endOffset - startOffset);
  if (length != SECONDS_LENGTH && (length < SECONDS_LENGTH + 2 || length > SECONDS_LENGTH + 7)) return false;
  for (let i: usize = 0; i < SECONDS_LENGTH; i++) {
    const byte = byteAt(start + i);
    if (i == 4 || i == 7) {
      if (byte != MINUS) return false;
    } else if (i == 10) {
      if (byte != 0x20) return false;
    } else if (i == 13 || i == 16) {
      if (byte != COLON) return false;
    } else if (!isDigit(byte)) {
      return false;
    }
  }
  if (length == SECONDS_LENGTH) return true;
  if (byteAt(start + SECONDS_LENGTH) != DOT) return false;
  for (let i = start + SECONDS_LENGTH + 1; i < start + length; i++) if (!isDigit(byteAt(i))) return false;
  return true;
}

/**
 * Writes the line at [start, end) at `out` with the `count` edits at EDITS applied, and a newline;
 * returns the offset after it. Each edit is an Amplitude timestamp value.
 */
export function rewriteLine(startOffset: i32, endOffset: i32, outOffset: i32, count: i32): i32 {
  const end = INPUT + <usize>endOffset;
  let out = INPUT + <usize>outOffset;
  let from = INPUT + <usize>startOffset;
  for (let edit = 0; edit < count; edit++) {
    const at = INPUT + <usize>load<i32>(EDITS + (<usize>edit << 3));
    const to = at + <usize>load<i32>(EDITS + (<usize>edit << 3) + 4);
    const seconds = at + SECONDS_LENGTH;
    memory.copy(out, from, seconds - from);
    out += seconds - from;
    store<u8>(out - SECONDS_LENGTH + 10, LETTER_T);
    let nonZero = false;
    for (let i = seconds + 1; i < to; i++) if (byteAt(i) != ZERO) nonZero = true;
    if (nonZero) {
      memory.copy(out, seconds, to - seconds);
      out += to - seconds;
      for (let digits = to - seconds - 1; digits < 6; digits++) store<u8>(out++, ZERO);
    }
    store<u32>(out, 0x3a30302b); // `+00:`, little-endian
    store<u16>(out + 4, 0x3030); // `00`
    out += 6;
    from = to;
  }
  memory.copy(out, from, end - from);
  out += end - from;
  store<u8>(out++, NEWLINE);
  return <i32>(out - INPUT);
}

/**
 * The scan and the rewrite of one line: every chosen key whose value is an Amplitude timestamp is
 * rewritten. -1 (nothing written) when the scan is unsure or the value of chosen key `required` is not
 * an Amplitude timestamp; else the offset after the line written at `out`.
 */
export function normaliseLine(startOffset: i32, endOffset: i32, outOffset: i32, required: i32): i32 {
  if (scanObject(startOffset, endOffset) != SCAN_FOUND) return -1;
  if (!isAmplitudeTimestamp(spanStart(required), spanEnd(required))) return -1;
  let count = 0;
  for (let key = 0; key < keyCount; key++) {
    const at = spanStart(key);
    if (at == -1 || !isAmplitudeTimestamp(at, spanEnd(key))) continue;
    // Insertion into ascending order of offset.
    let slot = count++;
    while (slot > 0 && load<i32>(EDITS + (<usize>(slot - 1) << 3)) > at) {
      store<i64>(EDITS + (<usize>slot << 3), load<i64>(EDITS + (<usize>(slot - 1) << 3)));
      slot--;
    }
    store<i32>(EDITS + (<usize>slot << 3), at);
    store<i32>(EDITS + (<usize>slot << 3) + 4, spanEnd(key) - at);
  }
  return rewriteLine(startOffset, endOffset, outOffset, count);
}
