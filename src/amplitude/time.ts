// Time formats of the Amplitude APIs. Pure functions on epoch milliseconds (UTC), safe in workflow code.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

const pad2 = (n: number) => String(n).padStart(2, '0');
const pad4 = (n: number) => String(n).padStart(4, '0');

export function floorToHour(ms: number): number {
  return Math.floor(ms / HOUR_MS) * HOUR_MS;
}

export function floorToDay(ms: number): number {
  return Math.floor(ms / DAY_MS) * DAY_MS;
}

/** `2024-03-01` */
export function isoDate(ms: number): string {
  const d = new Date(ms);
  return `${pad4(d.getUTCFullYear())}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
}

/** `2024-03-01T09` — the name of an hour partition. */
export function isoHour(ms: number): string {
  return `${isoDate(ms)}T${pad2(new Date(ms).getUTCHours())}`;
}

/** Export API hour parameter: `20240301T09` (both ends inclusive). */
export function exportHourParam(ms: number): string {
  return `${isoDate(ms).replaceAll('-', '')}T${pad2(new Date(ms).getUTCHours())}`;
}

/** Dashboard REST date parameter: `20240301`. */
export function dashboardDateParam(ms: number): string {
  return isoDate(ms).replaceAll('-', '');
}

function utcMs(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
): number | undefined {
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const d = new Date(ms);
  const valid =
    d.getUTCFullYear() === year &&
    d.getUTCMonth() === month - 1 &&
    d.getUTCDate() === day &&
    d.getUTCHours() === hour &&
    d.getUTCMinutes() === minute &&
    d.getUTCSeconds() === second;
  return valid ? ms : undefined;
}

/** Parses `YYYYMMDDTHH`; undefined when malformed or not a real calendar hour. */
export function parseExportHourParam(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})$/.exec(value);
  if (!m) return undefined;
  return utcMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
}

/** Parses `YYYYMMDD`; undefined when malformed or not a real date. */
export function parseDashboardDateParam(value: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  return utcMs(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Parses `YYYY-MM-DD`; undefined when malformed or not a real date. */
export function parseIsoDate(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return undefined;
  return utcMs(Number(m[1]), Number(m[2]), Number(m[3]));
}

/**
 * Amplitude's event timestamp, `YYYY-MM-DD HH:MM:SS.ffffff` in UTC without a zone marker, from
 * epoch microseconds.
 */
export function amplitudeTimestamp(epochMicros: number): string {
  const ms = Math.floor(epochMicros / 1000);
  const d = new Date(ms);
  const micros = String(epochMicros - Math.floor(epochMicros / 1_000_000) * 1_000_000).padStart(6, '0');
  return `${isoDate(ms)} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${micros}`;
}

const isDigit = (code: number) => code >= 0x30 && code <= 0x39;

/**
 * Whether `value` is an Amplitude event timestamp: `YYYY-MM-DD HH:MM:SS` and an optional `.f` to
 * `.ffffff`. Checked character by character: it runs seven times for every exported event.
 */
export function isAmplitudeTimestamp(value: string): boolean {
  const length = value.length;
  if (length !== 19 && (length < 21 || length > 26)) return false;
  for (let i = 0; i < 19; i++) {
    const code = value.charCodeAt(i);
    const expected = i === 4 || i === 7 ? 0x2d : i === 10 ? 0x20 : i === 13 || i === 16 ? 0x3a : -1;
    if (expected === -1 ? !isDigit(code) : code !== expected) return false;
  }
  if (length === 19) return true;
  if (value.charCodeAt(19) !== 0x2e) return false;
  for (let i = 20; i < length; i++) if (!isDigit(value.charCodeAt(i))) return false;
  return true;
}

/**
 * `2024-03-01 10:14:09.377000` (UTC implied) -> `2024-03-01T10:14:09.377000+00:00`, as Airbyte's
 * connector writes it (Python's isoformat): microseconds as six digits, none at all when they are zero
 * (`10:14:09+00:00`). Returns undefined for anything that is not an Amplitude timestamp.
 */
export function amplitudeTimestampToRfc3339(value: string): string | undefined {
  if (!isAmplitudeTimestamp(value)) return undefined;
  const digits = value.slice(20);
  const fraction = /[1-9]/.test(digits) ? `.${digits.padEnd(6, '0')}` : '';
  return `${value.slice(0, 10)}T${value.slice(11, 19)}${fraction}+00:00`;
}

/** Epoch milliseconds of the hour an Amplitude timestamp falls in; undefined when malformed. */
export function amplitudeTimestampHour(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):\d{2}:\d{2}/.exec(value);
  if (!m) return undefined;
  return utcMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
}

/** Parses an isoHour (`2024-03-01T09`); undefined when malformed. */
export function parseIsoHour(value: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/.exec(value);
  if (!m) return undefined;
  return utcMs(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4]));
}

/** `2024-03-01T09:00:00Z`: an instant as written in state and manifests. */
export function isoInstant(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * One formatter per time zone and purpose, made once: making one costs far more than using it (the
 * count reconciliation asks for a few hundred dates). `options` is a constant of its caller.
 */
export function zonedFormat(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  let byZone = zonedFormats.get(options);
  if (!byZone) {
    byZone = new Map();
    zonedFormats.set(options, byZone);
  }
  let format = byZone.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { ...options, timeZone });
    byZone.set(timeZone, format);
  }
  return format;
}
const zonedFormats = new Map<Intl.DateTimeFormatOptions, Map<string, Intl.DateTimeFormat>>();

const CALENDAR_DAY: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'numeric', day: 'numeric' };

/** The calendar date (as UTC-midnight ms) that `instantMs` falls on in an IANA time zone. */
export function calendarDayIn(instantMs: number, timeZone: string): number {
  const parts = zonedFormat(timeZone, CALENDAR_DAY).formatToParts(instantMs);
  const part = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return Date.UTC(part('year'), part('month') - 1, part('day'));
}

/** `2024-03-01T05:00:00Z/2024-03-01T10:00:00Z`: the half-open span [start, end) as an ISO 8601 interval. */
export function isoInterval(start: number, end: number): string {
  return `${isoInstant(start)}/${isoInstant(end)}`;
}

const INTERVAL = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\/(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/;

/** Parses an isoInterval of whole hours; undefined when malformed, empty or not on hour boundaries. */
export function parseHourInterval(value: string): { start: number; end: number } | undefined {
  const m = INTERVAL.exec(value);
  if (!m) return undefined;
  const start = Date.parse(m[1]!);
  const end = Date.parse(m[2]!);
  if (Number.isNaN(start) || Number.isNaN(end) || end <= start) return undefined;
  if (start % HOUR_MS !== 0 || end % HOUR_MS !== 0) return undefined;
  return { start, end };
}

export const START_DATE_FORMS =
  'use "YYYY-MM-DDTHH:mm:ssZ" (Airbyte\'s format, e.g. "2024-01-01T00:00:00Z") or "YYYY-MM-DD"';

/** Accepts Airbyte's `2024-01-01T00:00:00Z`, RFC 3339 with an explicit offset, or a bare UTC date. */
export function parseStartDate(value: string): number | undefined {
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) value = `${value}T00:00:00Z`;
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
