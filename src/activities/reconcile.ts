// Count reconciliation: the events exported per project-local day against Amplitude's own daily totals
// (Event Segmentation of all events), and per hour against its hourly totals, to find days with
// missing events and the hours most likely affected.
//
// Exact equality is not expected. Amplitude's charts count events by `event_time` in the project's
// time zone; the export files them by `server_upload_time`. An event sent late (an offline device, a
// batch import) is counted by Amplitude on the day it happened and exported on the day it arrived, so
// each day gains some events and loses others, and the most recent days keep growing in Amplitude's
// count as late events arrive. Events of the last minutes before a boundary are often uploaded after
// it. A day is reported when the counts differ by more than the tolerance, or when an hour Amplitude
// counts enough events for has less than half of them exported (a missing hour).
import { cancellationSignal } from '@temporalio/activity';
import type { AmplitudeClient } from '../amplitude/client.ts';
import { fileSystemFailure, toFailure } from '../amplitude/errors.ts';
import {
  dailyEventTotals,
  HOURLY_DAYS_PER_REQUEST,
  hourlyEventTotals,
  localHourIn,
} from '../amplitude/event-totals.ts';
import { calendarDayIn, DAY_MS, HOUR_MS, isoDate, isoHour } from '../amplitude/time.ts';
import type { OpenDestination } from '../destination/open.ts';
import type { DestinationSpec } from '../destination/spec.ts';

export interface Tolerance {
  /** A day is within tolerance when |exported - Amplitude| <= max(absolute, percent% of Amplitude). */
  percent: number;
  absolute: number;
  /** An hour is missing when Amplitude counts at least this many events and under half are exported. */
  hourMinimum: number;
}

export const DEFAULT_TOLERANCE: Tolerance = { percent: 5, absolute: 20, hourMinimum: 10 };

export interface ReconcileInput {
  runKey: string;
  destination: string | DestinationSpec;
  /** Complete project-local days to check, ending with the last one before `before`. */
  days: number;
  /** The events watermark: only days that ended before it are fully exported. */
  before: string;
  /** start_date: days before it are not compared. */
  startDate: string;
  projectTimezone: string;
  tolerance?: Tolerance;
}

export interface HourCount {
  /** The UTC upload hour, `YYYY-MM-DDTHH`. */
  hour: string;
  amplitude: number;
  exported: number;
}

export interface DayReport {
  date: string;
  amplitude: number;
  exported: number;
  /** exported - amplitude */
  difference: number;
  /** The hours most likely affected, largest shortfall first (at most five). */
  hours: HourCount[];
  /** Hours of this day without any exported event while Amplitude counts some: asked again. */
  recheck?: Array<[string, string]>;
}

export interface ReconcileResult {
  checkedAt: string;
  /** The days compared, first and last (project-local dates). */
  from?: string;
  to?: string;
  tolerance: Tolerance;
  /** Days within tolerance. */
  matching: number;
  /** Days beyond it, with the hours most likely affected. */
  differing: DayReport[];
  /** Totals over all days compared. */
  amplitude: number;
  exported: number;
}

export interface ReconcileDeps {
  amplitude: AmplitudeClient;
  destination: OpenDestination;
}

/** The project-local days to compare: complete, after start_date, ending before the watermark. */
export function daysToCompare(
  days: number,
  before: number,
  startDate: number,
  timeZone: string,
): { first: number; last: number } | undefined {
  const last = calendarDayIn(before, timeZone) - DAY_MS;
  const startDay = calendarDayIn(startDate, timeZone);
  // A start_date after local midnight leaves its first day incomplete.
  const firstWhole = startDay + (firstUtcHourOf(startDay, timeZone) < startDate ? DAY_MS : 0);
  const first = Math.max(firstWhole, last - (days - 1) * DAY_MS);
  return first <= last ? { first, last } : undefined;
}

/** The first UTC hour whose start falls on the project-local date `day`. */
function firstUtcHourOf(day: number, timeZone: string): number {
  for (let hour = day - 15 * HOUR_MS; hour < day + 15 * HOUR_MS; hour += HOUR_MS) {
    if (calendarDayIn(hour, timeZone) === day) return hour;
  }
  return day;
}

/** The UTC upload hours of a project-local day (23, 24 or 25 of them), filed by the hour they start in. */
function utcHoursOf(day: number, timeZone: string): number[] {
  const hours: number[] = [];
  for (let hour = firstUtcHourOf(day, timeZone); calendarDayIn(hour, timeZone) === day; hour += HOUR_MS) {
    hours.push(hour);
  }
  return hours;
}

/** Compares one day; pure, for tests. `amplitudeHourly` is indexed by local hour 0..23. */
export function compareDay(
  date: string,
  hours: ReadonlyArray<{ utcHour: number; localHour: number; exported: number }>,
  amplitudeDaily: number,
  amplitudeHourly: readonly number[] | undefined,
  tolerance: Tolerance,
): DayReport | undefined {
  const exported = hours.reduce((sum, hour) => sum + hour.exported, 0);
  const difference = exported - amplitudeDaily;
  const counts: HourCount[] = hours.map(({ utcHour, localHour, exported }) => ({
    hour: isoHour(utcHour),
    amplitude: amplitudeHourly?.[localHour] ?? 0,
    exported,
  }));
  const missingHour = counts.some(
    (hour) => hour.amplitude >= tolerance.hourMinimum && hour.exported * 2 < hour.amplitude,
  );
  const allowed = Math.max(tolerance.absolute, (tolerance.percent / 100) * amplitudeDaily);
  if (Math.abs(difference) <= allowed && !missingHour) return undefined;
  const affected = counts
    .filter((hour) => hour.amplitude > hour.exported)
    .sort((a, b) => b.amplitude - b.exported - (a.amplitude - a.exported))
    .slice(0, 5);
  const empty = hours.filter(
    (hour, index) =>
      hour.exported === 0 && (amplitudeHourly ? counts[index]!.amplitude > 0 : amplitudeDaily > 0),
  );
  return {
    date,
    amplitude: amplitudeDaily,
    exported,
    difference,
    hours: affected,
    ...(empty.length > 0 && amplitudeDaily > 0
      ? {
          recheck: empty.map(
            ({ utcHour }) => [isoHour(utcHour), isoHour(utcHour + HOUR_MS)] as [string, string],
          ),
        }
      : {}),
  };
}

export async function reconcileCounts(deps: ReconcileDeps, input: ReconcileInput): Promise<ReconcileResult> {
  const tolerance = input.tolerance ?? DEFAULT_TOLERANCE;
  const timeZone = input.projectTimezone;
  const checkedAt = new Date().toISOString();
  const span = daysToCompare(input.days, Date.parse(input.before), Date.parse(input.startDate), timeZone);
  const empty = { checkedAt, tolerance, matching: 0, differing: [], amplitude: 0, exported: 0 };
  if (!span) return empty;
  const signal = cancellationSignal();
  try {
    const days: number[] = [];
    for (let day = span.first; day <= span.last; day += DAY_MS) days.push(day);
    const hoursOfDay = new Map(days.map((day) => [day, utcHoursOf(day, timeZone)]));
    const allHours = [...hoursOfDay.values()].flat();
    const requests: number[][] = [];
    for (let i = 0; i < days.length; i += HOURLY_DAYS_PER_REQUEST) {
      requests.push(days.slice(i, i + HOURLY_DAYS_PER_REQUEST));
    }
    // At once: Amplitude's totals (the client keeps to its dashboard concurrency) and our own counts;
    // the requests still under way are cancelled when one fails, not left holding the client's slots.
    const failed = new AbortController();
    const requestSignal = AbortSignal.any([signal, failed.signal]);
    const all = Promise.all([
      dailyEventTotals(deps.amplitude, span.first, span.last, requestSignal),
      (async () => {
        const destination = await deps.destination(input.destination, input.runKey);
        return destination.eventCounts(input.runKey, allHours[0]!, allHours[allHours.length - 1]! + HOUR_MS);
      })(),
      Promise.all(
        requests.map((chunk) =>
          hourlyEventTotals(deps.amplitude, chunk[0]!, chunk[chunk.length - 1]!, requestSignal),
        ),
      ),
    ]);
    all.catch(() => failed.abort());
    const [daily, exported, hourlyTotals] = await all;
    const hourly = new Map<string, number[]>(hourlyTotals.flatMap((totals) => [...totals]));
    const result: ReconcileResult = {
      ...empty,
      from: isoDate(span.first),
      to: isoDate(span.last),
      differing: [],
    };
    for (const day of days) {
      const date = isoDate(day);
      const hours = hoursOfDay.get(day)!.map((utcHour) => ({
        utcHour,
        localHour: localHourIn(utcHour, timeZone),
        exported: exported.get(utcHour) ?? 0,
      }));
      const amplitude = daily.get(date) ?? 0;
      result.amplitude += amplitude;
      result.exported += hours.reduce((sum, hour) => sum + hour.exported, 0);
      const report = compareDay(date, hours, amplitude, hourly.get(date), tolerance);
      if (report) result.differing.push(report);
      else result.matching++;
    }
    return result;
  } catch (error) {
    throw fileSystemFailure(error) ?? toFailure(error, 'count reconciliation');
  }
}
