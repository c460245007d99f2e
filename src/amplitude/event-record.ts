// One exported event: its line as Amplitude sent it, with the seven timestamp fields rewritten to
// RFC 3339 in UTC and nothing else touched (nested look-alike keys, number spellings, key order).
import { amplitudeTimestampHour, amplitudeTimestampToRfc3339 } from './time.ts';

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

export interface NormalisedEvent {
  /** The output line (no trailing newline). */
  line: string;
  /** The upload hour (epoch ms) the event is partitioned by. */
  uploadHour: number;
}

interface Edit {
  at: number;
  length: number;
  text: string;
}

/**
 * Finds the one place where top-level `field` holds `value` in the raw line. When the same key and
 * value also occur nested (or the raw text spells them with escapes), there is no single place, and
 * undefined sends the line to the re-serialising path.
 */
function uniqueValueSpan(
  raw: string,
  field: string,
  value: string,
): { at: number; length: number } | undefined {
  for (const separator of ['":"', '": "']) {
    const needle = `"${field}${separator}${value}"`;
    const at = raw.indexOf(needle);
    if (at === -1) continue;
    if (raw.indexOf(needle, at + 1) !== -1) return undefined;
    const valueAt = at + field.length + separator.length + 1;
    return { at: valueAt, length: value.length };
  }
  return undefined;
}

function applyEdits(raw: string, edits: Edit[]): string {
  edits.sort((a, b) => a.at - b.at);
  let out = '';
  let from = 0;
  for (const edit of edits) {
    out += raw.slice(from, edit.at) + edit.text;
    from = edit.at + edit.length;
  }
  return out + raw.slice(from);
}

/** Normalises one raw export line. Throws EventRecordError when the line is not an event object. */
export function normaliseEventLine(raw: string): NormalisedEvent {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(raw);
  } catch (error) {
    throw new EventRecordError(`a line is not JSON (${(error as Error).message}): ${raw.slice(0, 120)}`);
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    throw new EventRecordError(`a line is not a JSON object: ${raw.slice(0, 120)}`);
  }
  const uploadTime = event.server_upload_time;
  const uploadHour = typeof uploadTime === 'string' ? amplitudeTimestampHour(uploadTime) : undefined;
  if (uploadHour === undefined) {
    throw new EventRecordError(
      `an event has no valid server_upload_time (${JSON.stringify(uploadTime)}), so it cannot be placed in an hour: ${raw.slice(0, 120)}`,
    );
  }

  const edits: Edit[] = [];
  let reserialise = false;
  for (const field of EVENT_TIMESTAMP_FIELDS) {
    const value = event[field];
    if (typeof value !== 'string') continue;
    const rewritten = amplitudeTimestampToRfc3339(value);
    if (rewritten === undefined) continue;
    event[field] = rewritten;
    const span = reserialise ? undefined : uniqueValueSpan(raw, field, value);
    if (span) edits.push({ ...span, text: rewritten });
    else reserialise = true;
  }
  const line = reserialise ? JSON.stringify(event) : edits.length > 0 ? applyEdits(raw, edits) : raw;
  return { line, uploadHour };
}
