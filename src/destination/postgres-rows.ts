// Records as rows of PostgreSQL's COPY text format: columns separated by tabs, one row a line, `\N`
// for NULL, and backslash, tab, newline and carriage return escaped in values.

const SPECIAL = /[\\\t\n\r]/;
const SPECIALS = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value as a COPY text field: \\ \t \n \r escaped, everything else as is (UTF-8 in a UTF-8 database). */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = typeof value === 'string' ? value : String(value);
  return SPECIAL.test(text) ? text.replace(SPECIALS, (character) => ESCAPED[character]!) : text;
}

function copyFields(fields: readonly unknown[]): string {
  return fields.map(copyField).join('\t');
}

export function copyRow(fields: readonly unknown[]): string {
  return `${copyFields(fields)}\n`;
}

/** The events table's typed columns, in COPY order, then the upload hour and the whole record. */
export const EVENT_COLUMNS = [
  'uuid',
  'event_time',
  'server_upload_time',
  'event_type',
  'user_id',
  'device_id',
  'amplitude_id',
  'session_id',
  'country',
  'platform',
  'app',
] as const;

/** Integers as sent (amplitude_id is a 64-bit id): only whole numbers pass, anything else is NULL. */
function integer(value: unknown): string | null {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string' && /^-?\d+$/.test(value)) return value;
  return null;
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

// jsonb cannot hold U+0000 or a lone surrogate, which JSON may carry as escapes: they become U+FFFD.
// A whole surrogate pair is matched first and kept; an escaped backslash before `u` is not an escape.
const ESCAPES =
  /(?<!\\)((?:\\\\)*)(\\ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|\\u0000|\\ud[89a-f][0-9a-f]{2})/gi;

/** The line with what jsonb refuses replaced by U+FFFD; most lines have none and come back as they are. */
export function storableJson(line: string): string {
  if (!line.includes('\\u')) return line;
  return line.replace(ESCAPES, (match, backslashes: string, sequence: string) =>
    sequence.length === 12 ? match : `${backslashes}\\ufffd`,
  );
}

/** A JSON line as a COPY field: JSON has no raw tab, newline or carriage return, so only backslashes are escaped. */
function jsonField(line: string): string {
  const storable = storableJson(line);
  return storable.includes('\\') ? storable.replaceAll('\\', '\\\\') : storable;
}

/** One exported event line (normalised NDJSON, without its newline) as an events row. */
export function eventRow(line: string, uploadHour: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  // The record column is the line itself: jsonb keeps its values.
  return `${copyFields([
    text(record.uuid),
    text(record.event_time),
    text(record.server_upload_time),
    text(record.event_type),
    text(record.user_id),
    text(record.device_id),
    integer(record.amplitude_id),
    integer(record.session_id),
    text(record.country),
    text(record.platform),
    integer(record.app),
    uploadHour,
  ])}\t${jsonField(line)}\n`;
}
