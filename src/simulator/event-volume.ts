import { floorToHour, HOUR_MS } from '../amplitude/time.ts';
import { Random, seedOf } from './random.ts';

export type EventsPerHour = (hourStartMs: number) => number;

/** About 200 events an hour, following the sun (UTC), with about one hour in twenty empty. */
export function defaultEventsPerHour(seed: number): EventsPerHour {
  return (hourStartMs) => {
    const random = new Random(seedOf(seed, 0xc0117, hourStartMs / HOUR_MS));
    if (random.chance(0.05)) return 0;
    const hourOfDay = new Date(hourStartMs).getUTCHours();
    const daily = 1 + 0.45 * Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI);
    return Math.round(200 * daily * (0.8 + 0.4 * random.float()));
  };
}

export interface Partition {
  /** the `n` of `#n` in the member name */
  number: number;
  /** event indexes [from, to) within the hour */
  from: number;
  to: number;
}

export interface EventVolumeSettings {
  dataStart: number;
  eventsPerHour: EventsPerHour;
  eventsPerPartition: number;
  firstPartitionIndex: number;
  availabilityDelayMs: number;
}

/** How many events each upload hour holds, how they split into members, and when they become exportable. */
export class EventVolume {
  readonly firstDataHour: number;

  constructor(private readonly settings: EventVolumeSettings) {
    this.firstDataHour = floorToHour(settings.dataStart);
  }

  countOfHour(hourStartMs: number): number {
    if (hourStartMs < this.firstDataHour) return 0;
    return Math.max(0, Math.floor(this.settings.eventsPerHour(hourStartMs)));
  }

  /** An upload hour is exportable once it ended `availabilityDelayMs` ago. */
  isAvailable(hourStartMs: number, now: number): boolean {
    return hourStartMs + HOUR_MS + this.settings.availabilityDelayMs <= now;
  }

  visibleCountOfHour(hourStartMs: number, now: number): number {
    return this.isAvailable(hourStartMs, now) ? this.countOfHour(hourStartMs) : 0;
  }

  partitions(hourStartMs: number): Partition[] {
    const count = this.countOfHour(hourStartMs);
    const size = this.settings.eventsPerPartition;
    const partitions: Partition[] = [];
    for (let from = 0, n = this.settings.firstPartitionIndex; from < count; from += size, n++) {
      partitions.push({ number: n, from, to: Math.min(count, from + size) });
    }
    return partitions;
  }
}
