import { amplitudeTimestamp } from '../amplitude/time.ts';

const MICROS_PER_HOUR = 3_600_000_000;
const PAD2 = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'));
const MAX_CACHED_HOURS = 50_000;

/**
 * Formats epoch microseconds exactly like `amplitudeTimestamp`, but caches the `YYYY-MM-DD HH:`
 * prefix per hour: event generation formats six timestamps per event, and this is its hot loop.
 */
export class TimestampFormatter {
  private readonly hourPrefixes = new Map<number, string>();

  format(epochMicros: number): string {
    const hour = Math.floor(epochMicros / MICROS_PER_HOUR);
    let prefix = this.hourPrefixes.get(hour);
    if (prefix === undefined) {
      if (this.hourPrefixes.size >= MAX_CACHED_HOURS) this.hourPrefixes.clear();
      prefix = amplitudeTimestamp(hour * MICROS_PER_HOUR).slice(0, 14);
      this.hourPrefixes.set(hour, prefix);
    }
    const withinHour = epochMicros - hour * MICROS_PER_HOUR;
    const seconds = Math.floor(withinHour / 1_000_000);
    const micros = withinHour - seconds * 1_000_000;
    return `${prefix}${PAD2[Math.floor(seconds / 60)]}:${PAD2[seconds % 60]}.${String(micros + 1_000_000).slice(1)}`;
  }
}
