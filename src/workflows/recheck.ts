// The re-check list of the events stream (DESIGN.md §3): upload hours Amplitude answered 404 for.
// The watermark may pass them, but every later sync asks for them again until Amplitude serves them
// or they expire. Pure and deterministic: shared by workflow code, the command line and tests.
import { HOUR_MS, isoInstant, isoInterval, parseHourInterval, parseIsoHour } from '../amplitude/time.ts';
import { mergeSpans, type Span } from './plan.ts';

/** One range of the list as it is kept in the state: whole upload hours [start, end), UTC instants. */
export interface RecheckEntry {
  start: string;
  end: string;
  /** After this instant the range leaves the list, still empty: export_recheck_days after it was listed. */
  expires: string;
}

/** What a sync did with the list; part of the stream's summary and the manifest. */
export interface RecheckReport {
  /** Ranges still answered 404: the next sync asks for them again. */
  pending: RecheckEntry[];
  /** Hours a later ask found data for, now written into their partitions (ISO intervals). */
  recovered: string[];
  /** Hours that left the list still empty after export_recheck_days (ISO intervals). */
  expired: string[];
}

interface Listed extends Span {
  expires: number;
}

/** The Export API serves at most 365 days per request. */
const LONGEST_REQUEST_MS = 365 * 24 * HOUR_MS;

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** What is wrong with a re-check list given from outside; empty when it is usable. */
export function recheckProblems(value: unknown): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) return ['recheck must be a list of {"start", "end", "expires"}'];
  const problems: string[] = [];
  for (const entry of value as Array<Partial<RecheckEntry> | null>) {
    const span =
      typeof entry?.start === 'string' && typeof entry.end === 'string'
        ? parseHourInterval(`${entry.start}/${entry.end}`)
        : undefined;
    if (!span) {
      problems.push(`recheck entry ${JSON.stringify(entry)} is not a range of whole UTC hours`);
    } else if (typeof entry?.expires !== 'string' || !INSTANT.test(entry.expires)) {
      problems.push(`recheck entry ${JSON.stringify(entry)} has no expires time like 2024-03-08T00:00:00Z`);
    }
  }
  return problems;
}

function parse(entries: readonly RecheckEntry[] | undefined): Listed[] {
  return (entries ?? []).map((entry) => ({
    ...parseHourInterval(`${entry.start}/${entry.end}`)!,
    expires: Date.parse(entry.expires),
  }));
}

function format(listed: readonly Listed[]): RecheckEntry[] {
  return listed.map(({ start, end, expires }) => ({
    start: isoInstant(start),
    end: isoInstant(end),
    expires: isoInstant(Math.ceil(expires / 1000) * 1000),
  }));
}

/** Sorted, touching ranges joined (the later expiry wins), so the list stays short. */
function compact(listed: readonly Listed[]): Listed[] {
  const joined: Listed[] = [];
  for (const entry of [...listed].sort((a, b) => a.start - b.start)) {
    const last = joined[joined.length - 1];
    if (last && entry.start <= last.end) {
      last.end = Math.max(last.end, entry.end);
      last.expires = Math.max(last.expires, entry.expires);
    } else {
      joined.push({ ...entry });
    }
  }
  return joined;
}

/** `spans` without the parts inside `cut`. */
function subtract<T extends Span>(spans: readonly T[], cut: Span): T[] {
  const kept: T[] = [];
  for (const span of spans) {
    if (span.end <= cut.start || span.start >= cut.end) {
      kept.push(span);
      continue;
    }
    if (span.start < cut.start) kept.push({ ...span, end: cut.start });
    if (span.end > cut.end) kept.push({ ...span, start: cut.end });
  }
  return kept;
}

function intersect(spans: readonly Span[], with_: Span): Span[] {
  return spans
    .map((span) => ({ start: Math.max(span.start, with_.start), end: Math.min(span.end, with_.end) }))
    .filter((span) => span.end > span.start);
}

const intervals = (spans: readonly Span[]) => mergeSpans([...spans]).map((s) => isoInterval(s.start, s.end));

function addIntervals(into: string[], spans: readonly Span[]): string[] {
  const all = [...into.map((value) => parseHourInterval(value)!), ...spans];
  return intervals(all);
}

/** Adds hours to a list, each new part expiring at `expires`; parts already listed keep their expiry. */
export function addToRecheck(
  entries: readonly RecheckEntry[] | undefined,
  span: Span,
  expires: number,
): RecheckEntry[] {
  const listed = parse(entries);
  let uncovered: Span[] = [span];
  for (const entry of listed) uncovered = subtract(uncovered, entry);
  return format(compact([...listed, ...uncovered.map((part) => ({ ...part, expires }))]));
}

/** The union of two lists (states of the same connection from two places). */
export function unionRecheck(
  a: readonly RecheckEntry[] | undefined,
  b: readonly RecheckEntry[] | undefined,
): RecheckEntry[] {
  return format(compact([...parse(a), ...parse(b)]));
}

/** The list at the start of a sync: what expired, and the requests that ask for the rest again. */
export function planRecheck(
  entries: readonly RecheckEntry[] | undefined,
  plannedAt: number,
  rangeStart: number,
): { report: RecheckReport; asks: Span[] } {
  const listed = parse(entries);
  const live = listed.filter((entry) => entry.expires > plannedAt);
  const expired = listed.filter((entry) => entry.expires <= plannedAt);
  // Hours from rangeStart on are read again anyway, by this sync's own windows.
  const before = mergeSpans(intersect(live, { start: Number.MIN_SAFE_INTEGER, end: rangeStart }));
  return {
    report: { pending: format(compact(live)), recovered: [], expired: intervals(expired) },
    asks: before.flatMap(requestsFor),
  };
}

/** One request per contiguous range, within the Export API's 365 days. */
export function requestsFor(span: Span): Span[] {
  const requests: Span[] = [];
  for (let start = span.start; start < span.end; start += LONGEST_REQUEST_MS) {
    requests.push({ start, end: Math.min(span.end, start + LONGEST_REQUEST_MS) });
  }
  return requests;
}

/**
 * An export window answered: the hours it wrote that were on the list were recovered late; a window
 * served (even without data for some of its hours) leaves the list; one answered 404 twice goes on it,
 * new parts expiring `recheckDays` from `now`.
 */
export function recordAnswer(
  report: RecheckReport,
  window: Span,
  answer: { notFound: boolean; hoursWritten: readonly Span[] },
  now: number,
  recheckMs: number,
): RecheckReport {
  const listed = parse(report.pending);
  const recovered = answer.hoursWritten.flatMap((hours) => intersect(listed, hours));
  const pending = answer.notFound
    ? addToRecheck(report.pending, window, now + recheckMs)
    : format(subtract(listed, window));
  return { pending, recovered: addIntervals(report.recovered, recovered), expired: report.expired };
}

/** The hours a count reconciliation found without any exported event while Amplitude counts some, added to a list. */
export function addReconciledHours(
  entries: readonly RecheckEntry[] | undefined,
  differing: ReadonlyArray<{ recheck?: Array<[string, string]> }>,
  expires: number,
): RecheckEntry[] | undefined {
  let list = entries ? [...entries] : undefined;
  for (const day of differing) {
    for (const [start, end] of day.recheck ?? []) {
      list = addToRecheck(list, { start: parseIsoHour(start)!, end: parseIsoHour(end)! }, expires);
    }
  }
  return list;
}

/** Whether every hour of `span` is on the list already. */
export function isListed(entries: readonly RecheckEntry[] | undefined, span: Span): boolean {
  let rest: Span[] = [span];
  for (const entry of parse(entries)) rest = subtract(rest, entry);
  return rest.length === 0;
}
