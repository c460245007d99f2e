// Records as rows of PostgreSQL's COPY text format: columns separated by tabs, one row a line, `\N`
// for NULL, and backslash, tab, newline and carriage return escaped in values.

/** A value as a COPY text field. */
export function copyField(value: unknown): string {
  if (value === null || value === undefined) return '\\N';
  const text = typeof value === 'string' ? value : String(value);
  let escaped = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // \\ \t \n \r: everything else goes as is (COPY text is UTF-8 in a UTF-8 database).
    if (code !== 0x5c && code !== 0x09 && code !== 0x0a && code !== 0x0d) continue;
    escaped +=
      text.slice(from, i) + (code === 0x5c ? '\\\\' : code === 0x09 ? '\\t' : code === 0x0a ? '\\n' : '\\r');
    from = i + 1;
  }
  return from === 0 ? text : escaped + text.slice(from);
}

export function copyRow(fields: readonly unknown[]): string {
  return `${fields.map(copyField).join('\t')}\n`;
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

/** One exported event line (normalised NDJSON, without its newline) as an events row. */
export function eventRow(line: string, uploadHour: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  // The record column is the line itself: jsonb keeps its values; a JSON line has no raw tab or newline.
  return copyRow([
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
    storableJson(line),
  ]);
}
