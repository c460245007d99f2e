import { DAY_MS, HOUR_MS, isoDate } from '../amplitude/time.ts';
import type { DaySeries } from './dashboard-data.ts';
import type { EventLineGenerator } from './event-lines.ts';
import type { EventVolume } from './event-volume.ts';

/** Late events reach back at most this far before their upload (see the event generator). */
const LATEST_ARRIVAL_MS = 11 * DAY_MS;

export interface EventTotalsSettings {
  projectTimeZoneOffsetMinutes: number;
}

/**
 * What Event Segmentation of "[Amplitude] Any Event" (`_all`, metric totals) counts: events by their
 * `event_time` in the project's time zone, including late events uploaded days after they happened,
 * as soon as they are uploaded (charts do not wait for the export's availability delay).
 */
export class EventTotals {
  /** Per upload hour that ended: events by project-local hour (as a local-time ms key). */
  readonly #byLocalHour = new Map<number, Map<number, number>>();

  constructor(
    private readonly volume: EventVolume,
    private readonly generator: EventLineGenerator,
    private readonly settings: EventTotalsSettings,
  ) {}

  get #offsetMs(): number {
    return this.settings.projectTimeZoneOffsetMinutes * 60_000;
  }

  /** Daily totals for project-local days `first`..`last` (UTC-midnight ms of the local dates). */
  daily(first: number, last: number, now: number): DaySeries {
    const xValues: string[] = [];
    const totals: number[] = [];
    for (let day = first; day <= last; day += DAY_MS) {
      xValues.push(isoDate(day));
      let total = 0;
      for (let hour = day; hour < day + DAY_MS; hour += HOUR_MS) total += this.#count(hour, now);
      totals.push(total);
    }
    return { xValues, labels: [0], series: [totals] };
  }

  /** Hourly totals for every project-local hour of days `first`..`last`. */
  hourly(first: number, last: number, now: number): DaySeries {
    const xValues: string[] = [];
    const totals: number[] = [];
    for (let hour = first; hour < last + DAY_MS; hour += HOUR_MS) {
      xValues.push(`${new Date(hour).toISOString().slice(0, 13)}:00:00`);
      totals.push(this.#count(hour, now));
    }
    return { xValues, labels: [0], series: [totals] };
  }

  /** Events whose event_time falls in the project-local hour `localHour`, uploaded by `now`. */
  #count(localHour: number, now: number): number {
    const from = localHour - this.#offsetMs;
    let count = 0;
    for (let upload = from - (from % HOUR_MS); upload < from + LATEST_ARRIVAL_MS; upload += HOUR_MS) {
      if (upload > now) break;
      count += this.#histogram(upload, now).get(localHour) ?? 0;
    }
    return count;
  }

  #histogram(uploadHour: number, now: number): Map<number, number> {
    const cached = this.#byLocalHour.get(uploadHour);
    if (cached) return cached;
    const histogram = new Map<number, number>();
    const count = this.volume.countOfHour(uploadHour);
    if (count > 0) {
      const { eventMs, uploadMs } = this.generator.eventTimesOfHour(uploadHour, count);
      for (let i = 0; i < count; i++) {
        if (uploadMs[i]! > now) continue;
        const local = eventMs[i]! + this.#offsetMs;
        const key = local - (((local % HOUR_MS) + HOUR_MS) % HOUR_MS);
        histogram.set(key, (histogram.get(key) ?? 0) + 1);
      }
    }
    // Complete once every event of the hour was uploaded; an hour still under way is counted afresh.
    if (uploadHour + HOUR_MS <= now) this.#byLocalHour.set(uploadHour, histogram);
    return histogram;
  }
}
