// The slicing math: which export windows and dashboard slices a sync runs, and how far the watermark
// may move. Pure and deterministic, shared by workflow code and tests.
import { DAY_MS, floorToHour, HOUR_MS } from '../amplitude/time.ts';

/** Half-open [start, end) in epoch ms. Export windows are hour-aligned, dashboard slices day-aligned. */
export interface Span {
  start: number;
  end: number;
}

export interface ExportPlanInput {
  /** start_date of the connection. */
  startDate: number;
  /** Every upload hour before this is synced (state); undefined on a first sync. */
  completeBefore?: number;
  /** Hours before completeBefore that are read again, for data Amplitude delivered late. */
  lookbackHours: number;
  /** Hours from here on are not old enough yet: floorToHour(now - availability lag). */
  closeBefore: number;
  /** request_time_range. */
  windowHours: number;
}

/** The upload hours a sync reads: from the watermark minus the lookback (or start_date) to the last hour old enough. */
export function exportRange(input: ExportPlanInput): Span {
  const first = floorToHour(input.startDate);
  const close = floorToHour(input.closeBefore);
  const start =
    input.completeBefore === undefined
      ? first
      : Math.max(first, Math.min(floorToHour(input.completeBefore), close) - input.lookbackHours * HOUR_MS);
  return { start, end: Math.max(start, close) };
}

/** Cuts [start, end) at multiples of `size` counted from the epoch, so windows line up across syncs. */
function alignedCuts(range: Span, size: number): Span[] {
  const spans: Span[] = [];
  for (let start = range.start; start < range.end; ) {
    const end = Math.min(range.end, (Math.floor(start / size) + 1) * size);
    spans.push({ start, end });
    start = end;
  }
  return spans;
}

/** Export windows of `windowHours` (request_time_range) covering a span. */
export function exportWindows(span: Span, windowHours: number): Span[] {
  return alignedCuts(span, windowHours * HOUR_MS);
}

export function planExportWindows(input: ExportPlanInput): Span[] {
  return exportWindows(exportRange(input), input.windowHours);
}

export function hoursIn(span: Span): number {
  return (span.end - span.start) / HOUR_MS;
}

/** Halves a window of two or more hours, on an hour boundary. */
export function splitWindow(window: Span): [Span, Span] {
  const hours = hoursIn(window);
  if (hours < 2) throw new Error('a one-hour window cannot be split');
  const middle = window.start + Math.floor(hours / 2) * HOUR_MS;
  return [
    { start: window.start, end: middle },
    { start: middle, end: window.end },
  ];
}

/** Merges touching spans, so carried state stays small. */
export function mergeSpans(spans: Span[]): Span[] {
  const merged: Span[] = [];
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const last = merged[merged.length - 1];
    if (last && span.start <= last.end) last.end = Math.max(last.end, span.end);
    else merged.push({ ...span });
  }
  return merged;
}

/** How far from `from` the completed spans cover without a gap: the watermark may move to here. */
export function contiguousEnd(from: number, completed: Iterable<Span>): number {
  const sorted = [...completed].sort((a, b) => a.start - b.start);
  let end = from;
  for (const span of sorted) {
    if (span.start > end) break;
    end = Math.max(end, span.end);
  }
  return end;
}

export interface DashboardPlanInput {
  /** UTC midnight of start_date's calendar day. */
  startDay: number;
  /** Every day before this is synced (state); undefined on a first sync. */
  completeBefore?: number;
  lookbackDays: number;
  /** The first day that has not ended yet in the project's time zone. */
  firstIncompleteDay: number;
}

function monthStart(dayMs: number): number {
  const d = new Date(dayMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

function nextMonthStart(dayMs: number): number {
  const d = new Date(dayMs);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/**
 * The complete days a sync reads, widened back to the first day of their first month (or start_date):
 * each month is one partition and is always rewritten whole.
 */
export function dashboardRange(input: DashboardPlanInput): Span {
  const from =
    input.completeBefore === undefined
      ? input.startDay
      : Math.max(input.startDay, input.completeBefore - input.lookbackDays * DAY_MS);
  const start = Math.max(input.startDay, monthStart(from));
  return { start, end: Math.max(start, input.firstIncompleteDay) };
}

/** A span of days cut at calendar months. */
export function monthSlices(span: Span): Span[] {
  const slices: Span[] = [];
  for (let start = span.start; start < span.end; ) {
    const end = Math.min(nextMonthStart(start), span.end);
    slices.push({ start, end });
    start = end;
  }
  return slices;
}

export function planDashboardSlices(input: DashboardPlanInput): Span[] {
  return monthSlices(dashboardRange(input));
}
