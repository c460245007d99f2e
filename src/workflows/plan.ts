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

export function exportRange(input: ExportPlanInput): Span {
  const first = floorToHour(input.startDate);
  const start =
    input.completeBefore === undefined
      ? first
      : Math.max(first, Math.min(input.completeBefore, input.closeBefore) - input.lookbackHours * HOUR_MS);
  return { start, end: Math.max(start, floorToHour(input.closeBefore)) };
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

export function planExportWindows(input: ExportPlanInput): Span[] {
  return alignedCuts(exportRange(input), input.windowHours * HOUR_MS);
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
 * Month slices of complete days. Each month is one partition, so a slice always starts at its month's
 * first day (or start_date) and the partition is rewritten whole.
 */
export function planDashboardSlices(input: DashboardPlanInput): Span[] {
  const from =
    input.completeBefore === undefined
      ? input.startDay
      : Math.max(input.startDay, input.completeBefore - input.lookbackDays * DAY_MS);
  const slices: Span[] = [];
  for (let month = monthStart(from); month < input.firstIncompleteDay; month = nextMonthStart(month)) {
    const start = Math.max(month, input.startDay);
    const end = Math.min(nextMonthStart(month), input.firstIncompleteDay);
    if (start < end) slices.push({ start, end });
  }
  return slices;
}
