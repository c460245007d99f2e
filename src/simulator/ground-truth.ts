import {
  amplitudeTimestampToRfc3339,
  HOUR_MS,
  isoHour,
  parseDashboardDateParam,
  parseIsoDate,
} from '../amplitude/time.ts';
import type { Annotation, DashboardData } from './dashboard-data.ts';
import type { EventLineGenerator } from './event-lines.ts';
import type { EventTotals } from './event-totals.ts';
import type { EventVolume } from './event-volume.ts';

/** The seven top-level fields a sync rewrites from `YYYY-MM-DD HH:MM:SS.ffffff` to RFC 3339. */
export const TIMESTAMP_FIELDS = [
  'event_time',
  'client_event_time',
  'client_upload_time',
  'server_received_time',
  'server_upload_time',
  'processed_time',
  'user_creation_time',
] as const;

/** Exactly what a correct sync must produce, computed from the simulator's own model. */
export interface GroundTruth {
  /** Upload hours in [startMs, endMs) that are exportable now, with their event counts; empty hours omitted. */
  eventHours(startMs: number, endMs: number): Array<{ hour: string; count: number }>;
  /**
   * The expected output records of one upload hour (whether or not it is exportable yet), in export
   * order, with the 7 timestamp fields in RFC 3339 (`+00:00`), nulls kept, nothing else changed.
   */
  eventsOfHour(hourStartMs: number): Iterable<Record<string, unknown>>;
  /** The NDJSON lines of one upload hour exactly as served (without the '\n'). */
  rawEventLinesOfHour(hourStartMs: number): Iterable<string>;
  /**
   * Days given as `YYYY-MM-DD` (or `YYYYMMDD`), inclusive, valued as of the simulated now. `statistics`
   * maps each series label to the day's count: the country names with `byCountry`, else the single
   * ungrouped label `0`, which as an object key is the string "0".
   */
  activeUsers(
    startDay: string,
    endDay: string,
    byCountry: boolean,
  ): Array<{ date: string; statistics: Record<string, number> }>;
  averageSessionLength(startDay: string, endDay: string): Array<{ date: string; length: number }>;
  /** Event Segmentation's daily totals of all events (by event time, project-local days), as of now. */
  dailyEventTotals(startDay: string, endDay: string): Array<{ date: string; count: number }>;
  annotations(): Array<Annotation>;
  cohorts(): Array<Record<string, unknown>>;
  eventsList(): Array<Record<string, unknown>>;
}

export interface GroundTruthSources {
  volume: EventVolume;
  generator: EventLineGenerator;
  dashboard: DashboardData;
  eventTotals: EventTotals;
  now: () => number;
}

function parseDay(value: string): number {
  const day = parseIsoDate(value) ?? parseDashboardDateParam(value);
  if (day === undefined) throw new RangeError(`expected a day as YYYY-MM-DD, got '${value}'`);
  return day;
}

export function toExpectedRecord(line: string): Record<string, unknown> {
  const record = JSON.parse(line) as Record<string, unknown>;
  for (const field of TIMESTAMP_FIELDS) {
    const value = record[field];
    if (typeof value === 'string') record[field] = amplitudeTimestampToRfc3339(value) ?? value;
  }
  return record;
}

export function createGroundTruth({
  volume,
  generator,
  dashboard,
  eventTotals,
  now,
}: GroundTruthSources): GroundTruth {
  function* rawEventLinesOfHour(hourStartMs: number): Generator<string> {
    yield* generator.lines(hourStartMs, volume.countOfHour(hourStartMs));
  }

  return {
    eventHours(startMs, endMs) {
      const hours: Array<{ hour: string; count: number }> = [];
      for (let hour = Math.ceil(startMs / HOUR_MS) * HOUR_MS; hour < endMs; hour += HOUR_MS) {
        const count = volume.visibleCountOfHour(hour, now());
        if (count > 0) hours.push({ hour: isoHour(hour), count });
      }
      return hours;
    },
    *eventsOfHour(hourStartMs) {
      for (const line of rawEventLinesOfHour(hourStartMs)) yield toExpectedRecord(line);
    },
    rawEventLinesOfHour,
    activeUsers(startDay, endDay, byCountry) {
      const { xValues, labels, series } = dashboard.activeUsers(
        parseDay(startDay),
        parseDay(endDay),
        now(),
        byCountry,
      );
      return xValues.map((date, day) => ({
        date,
        statistics: Object.fromEntries(labels.map((label, row) => [String(label), series[row]![day]!])),
      }));
    },
    averageSessionLength(startDay, endDay) {
      const { xValues, series } = dashboard.averageSessionLength(parseDay(startDay), parseDay(endDay), now());
      return xValues.map((date, day) => ({ date, length: series[0]![day]! }));
    },
    dailyEventTotals(startDay, endDay) {
      const { xValues, series } = eventTotals.daily(parseDay(startDay), parseDay(endDay), now());
      return xValues.map((date, day) => ({ date, count: series[0]![day]! }));
    },
    annotations: () => dashboard.annotations(),
    cohorts: () => dashboard.cohorts(),
    eventsList: () => dashboard.eventsList(),
  };
}
