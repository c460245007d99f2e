// A validating scan of one JSON object held as UTF-8 bytes, which builds nothing: it accepts exactly the
// texts JSON.parse accepts as an object (bytes >= 0x80 inside strings are taken as they come, as
// JSON.parse of the Latin-1 reading does) and reports where chosen top-level string values sit. About
// three times JSON.parse's speed on export lines, with no garbage (bench/codecs.bench.ts).

/** The object is valid and every chosen key was found at most once, unescaped, with the spans set. */
export const SCAN_FOUND = 0;
/** Valid JSON or not, the caller needs JSON.parse: not an object, not JSON, an escaped top-level key, an escaped or repeated chosen value. */
export const SCAN_UNSURE = 1;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

/** Bytes that end a run of plain string characters: the quote, the backslash and the control characters. */
const STRING_STOP = new Uint8Array(256);
for (let byte = 0; byte < 0x20; byte++) STRING_STOP[byte] = 1;
STRING_STOP[QUOTE] = 1;
STRING_STOP[BACKSLASH] = 1;

const WHITESPACE = new Uint8Array(256);
for (const byte of [0x20, 0x09, 0x0a, 0x0d]) WHITESPACE[byte] = 1;

/** The characters allowed after a backslash, \u aside. */
const SIMPLE_ESCAPE = new Uint8Array(256);
for (const char of '"\\/bfnrt') SIMPLE_ESCAPE[char.charCodeAt(0)] = 1;

const HEX = new Uint8Array(256);
for (const char of '0123456789abcdefABCDEF') HEX[char.charCodeAt(0)] = 1;

const isDigit = (byte: number) => byte >= ZERO && byte <= NINE;

/**
 * Which chosen key (an index into the caller's spans) the unescaped top-level key in
 * buffer[start, end) is, or -1.
 */
export type KeyIndex = (buffer: Uint8Array, start: number, end: number) => number;

/** Set by scanString: whether the string just scanned held a backslash escape. */
let escaped = false;

/** The index after the closing quote of the string whose first character is at `at`, or -1. */
function scanString(buffer: Uint8Array, at: number, end: number): number {
  let i = at;
  escaped = false;
  for (;;) {
    while (STRING_STOP[buffer[i]!] === 0) i++;
    if (i >= end) return -1;
    const byte = buffer[i]!;
    if (byte === QUOTE) return i + 1;
    if (byte !== BACKSLASH) return -1; // a control character
    escaped = true;
    const next = buffer[i + 1]!;
    if (SIMPLE_ESCAPE[next] === 1) {
      i += 2;
    } else if (next === 0x75) {
      if (i + 6 > end) return -1;
      if (!(HEX[buffer[i + 2]!] && HEX[buffer[i + 3]!] && HEX[buffer[i + 4]!] && HEX[buffer[i + 5]!]))
        return -1;
      i += 6;
    } else {
      return -1;
    }
  }
}

function skipDigits(buffer: Uint8Array, at: number, end: number): number {
  let i = at;
  while (i < end && isDigit(buffer[i]!)) i++;
  return i;
}

/** The index after the number starting at `at`, or -1. */
function scanNumber(buffer: Uint8Array, at: number, end: number): number {
  let i = at;
  if (buffer[i] === MINUS) i++;
  if (i >= end) return -1;
  if (buffer[i] === ZERO) i++;
  else if (isDigit(buffer[i]!)) i = skipDigits(buffer, i + 1, end);
  else return -1;
  if (i < end && buffer[i] === DOT) {
    const digits = skipDigits(buffer, i + 1, end);
    if (digits === i + 1) return -1;
    i = digits;
  }
  if (i < end && (buffer[i] === 0x65 || buffer[i] === 0x45)) {
    i++;
    if (i < end && (buffer[i] === PLUS || buffer[i] === MINUS)) i++;
    const digits = skipDigits(buffer, i, end);
    if (digits === i) return -1;
    i = digits;
  }
  return i;
}

/** `true`, `false` and `null` as four-byte words (`fals` for false), little-endian. */
const TRUE = 0x65757274;
const FALS = 0x736c6166;
const NULL = 0x6c6c756e;

/** The index after `true`, `false` or `null` at `at`, or -1. */
function scanLiteral(buffer: Uint8Array, at: number, end: number): number {
  if (at + 4 > end) return -1;
  const word =
    (buffer[at]! | (buffer[at + 1]! << 8) | (buffer[at + 2]! << 16) | (buffer[at + 3]! << 24)) >>> 0;
  if (word === NULL || word === TRUE) return at + 4;
  return word === FALS && at + 5 <= end && buffer[at + 4] === 0x65 ? at + 5 : -1;
}

/** The first index from `at` that is not whitespace (compact JSON has none: one test). */
function skipWhitespace(buffer: Uint8Array, at: number, end: number): number {
  if (WHITESPACE[buffer[at]!] !== 1 || at >= end) return at;
  let i = at + 1;
  while (i < end && WHITESPACE[buffer[i]!] === 1) i++;
  return i;
}

/** Open containers, innermost last: true for an object. Grown on demand. */
let containers = new Uint8Array(64);

/**
 * Scans the JSON text in buffer[start, end). On SCAN_FOUND, `starts[k]`/`ends[k]` span the characters
 * (without quotes) of chosen key k's value when that value is a string, and are -1 when the key is
 * absent or its value is not a string. The byte at `end` must exist (the line's end) and must not be a
 * plain string character: a newline, as in a line of NDJSON.
 */
export function scanObject(
  buffer: Uint8Array,
  start: number,
  end: number,
  keyIndex: KeyIndex,
  starts: Int32Array,
  ends: Int32Array,
): typeof SCAN_FOUND | typeof SCAN_UNSURE {
  starts.fill(-1);
  ends.fill(-1);
  let i = skipWhitespace(buffer, start, end);
  if (buffer[i] !== OPEN_BRACE || i >= end) return SCAN_UNSURE;
  i++;
  let depth = 1;
  containers[0] = 1;
  /** The chosen key whose value comes next, or -1. */
  let chosen = -1;
  // Each turn starts where an object member (key) or an array element is due, or a close.
  let afterOpen = true;
  for (;;) {
    i = skipWhitespace(buffer, i, end);
    const inObject = containers[depth - 1] === 1;
    const close = inObject ? CLOSE_BRACE : CLOSE_BRACKET;
    if (afterOpen && buffer[i] === close && i < end) {
      i++;
      depth--;
    } else {
      chosen = -1;
      if (inObject) {
        if (i >= end || buffer[i] !== QUOTE) return SCAN_UNSURE;
        const keyEnd = scanString(buffer, i + 1, end);
        if (keyEnd === -1) return SCAN_UNSURE;
        if (depth === 1) {
          if (escaped) return SCAN_UNSURE;
          chosen = keyIndex(buffer, i + 1, keyEnd - 1);
          if (chosen !== -1 && starts[chosen] !== -1) return SCAN_UNSURE;
        }
        i = skipWhitespace(buffer, keyEnd, end);
        if (i >= end || buffer[i] !== COLON) return SCAN_UNSURE;
        i = skipWhitespace(buffer, i + 1, end);
      }
      if (i >= end) return SCAN_UNSURE;
      const byte = buffer[i]!;
      if (byte === QUOTE) {
        const valueEnd = scanString(buffer, i + 1, end);
        if (valueEnd === -1) return SCAN_UNSURE;
        if (chosen !== -1) {
          if (escaped) return SCAN_UNSURE;
          starts[chosen] = i + 1;
          ends[chosen] = valueEnd - 1;
        }
        i = valueEnd;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        if (chosen !== -1) starts[chosen] = i; // found, not a string: a repeat is still caught
        if (depth === containers.length) {
          const grown = new Uint8Array(containers.length * 2);
          grown.set(containers);
          containers = grown;
        }
        containers[depth++] = byte === OPEN_BRACE ? 1 : 0;
        i++;
        afterOpen = true;
        continue;
      } else {
        if (chosen !== -1) starts[chosen] = i;
        i = byte === MINUS || isDigit(byte) ? scanNumber(buffer, i, end) : scanLiteral(buffer, i, end);
        if (i === -1) return SCAN_UNSURE;
      }
    }
    // A value (or a container) just ended: a comma, or the close of the container it is in.
    for (;;) {
      if (depth === 0) {
        if (skipWhitespace(buffer, i, end) !== end) return SCAN_UNSURE;
        for (let k = 0; k < starts.length; k++) if (ends[k] === -1) starts[k] = -1;
        return SCAN_FOUND;
      }
      i = skipWhitespace(buffer, i, end);
      if (i >= end) return SCAN_UNSURE;
      const byte = buffer[i]!;
      if (byte === COMMA) {
        i++;
        afterOpen = false;
        break;
      }
      if (byte !== (containers[depth - 1] === 1 ? CLOSE_BRACE : CLOSE_BRACKET)) return SCAN_UNSURE;
      i++;
      depth--;
    }
  }
}
