// Amplitude's own count of events: Event Segmentation of "[Amplitude] Any Event" (`_all`), metric
// totals, per project-local day or hour. It counts by event time, the export by upload time.
import type { AmplitudeClient } from './client.ts';
import { eventTotals } from './records.ts';
import { calendarDayIn, dashboardDateParam, isoDate, zonedFormat } from './time.ts';

const HOUR_OF_DAY: Intl.DateTimeFormatOptions = { hour: 'numeric', hourCycle: 'h23' };

export const SEGMENTATION_ENDPOINT = '/api/2/events/segmentation';
const ALL_EVENTS = JSON.stringify({ event_type: '_all' });
const HOURLY = '-3600000';

/** Daily totals of project-local days [firstDay, lastDay] (UTC-midnight ms of the dates), by date. */
export async function dailyEventTotals(
  amplitude: AmplitudeClient,
  firstDay: number,
  lastDay: number,
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const body = await amplitude.getJson(
    SEGMENTATION_ENDPOINT,
    {
      e: ALL_EVENTS,
      m: 'totals',
      i: '1',
      start: dashboardDateParam(firstDay),
      end: dashboardDateParam(lastDay),
    },
    signal ? { signal } : {},
  );
  return new Map(eventTotals(body).map(({ x, count }) => [x, count]));
}

/** Amplitude serves hourly totals for at most 7 days per request. */
export const HOURLY_DAYS_PER_REQUEST = 7;

/**
 * Hourly totals of project-local days [firstDay, lastDay] (at most 7), by date, each indexed by the
 * local hour 0..23.
 */
export async function hourlyEventTotals(
  amplitude: AmplitudeClient,
  firstDay: number,
  lastDay: number,
  signal?: AbortSignal,
): Promise<Map<string, number[]>> {
  const body = await amplitude.getJson(
    SEGMENTATION_ENDPOINT,
    {
      e: ALL_EVENTS,
      m: 'totals',
      i: HOURLY,
      start: dashboardDateParam(firstDay),
      end: dashboardDateParam(lastDay),
    },
    signal ? { signal } : {},
  );
  const days = new Map<string, number[]>();
  for (const { x, count } of eventTotals(body)) {
    const match = /^(\d{4}-\d{2}-\d{2})[T ](\d{2})/.exec(x);
    if (!match) continue;
    const hours = days.get(match[1]!) ?? new Array<number>(24).fill(0);
    hours[Number(match[2])] = count;
    days.set(match[1]!, hours);
  }
  return days;
}

/**
 * About how many events Amplitude's charts count in the UTC hour `hourMs` (by event time, in the
 * project's time zone); undefined when Amplitude does not say within a few seconds. For messages only.
 */
export async function hourEventCount(
  amplitude: AmplitudeClient,
  hourMs: number,
  timeZone: string,
): Promise<number | undefined> {
  try {
    const localDay = calendarDayIn(hourMs, timeZone);
    const days = await hourlyEventTotals(amplitude, localDay, localDay, AbortSignal.timeout(10_000));
    return days.get(isoDate(localDay))?.[localHourIn(hourMs, timeZone)];
  } catch {
    return undefined;
  }
}

/** The hour of the day (0..23) that `instantMs` falls on in an IANA time zone. */
export function localHourIn(instantMs: number, timeZone: string): number {
  const hour = zonedFormat(timeZone, HOUR_OF_DAY)
    .formatToParts(instantMs)
    .find((part) => part.type === 'hour')?.value;
  return Number(hour) % 24;
}
