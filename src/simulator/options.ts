import { HOUR_MS } from '../amplitude/time.ts';
import { defaultEventsPerHour, type EventsPerHour } from './event-volume.ts';
import { hashString } from './random.ts';

export type Region = 'standard' | 'eu';

export interface Credentials {
  apiKey: string;
  secretKey: string;
}

export interface SimulatorOptions {
  /** All data is a pure function of seed + options. Default 'amplitude-sync'. */
  seed?: string;
  /** `app` in events and the zip folder name. Default 187520. */
  projectId?: number;
  /** Default standard: 'std-key'/'std-secret', eu: 'eu-key'/'eu-secret'. */
  credentials?: { standard: Credentials; eu: Credentials };
  /** Epoch ms; the first upload hour (floored to the hour) that has events. */
  dataStart: number;
  /** Epoch ms of the simulated clock. Default Date.now(). */
  now?: number;
  /** Default: about 200 with deterministic variation, and some hours with 0 events. */
  eventsPerHour?: number | EventsPerHour;
  /** Members are split into #0, #1, ... above this many events. Default 5000. */
  eventsPerPartition?: number;
  /** 0 (default) or 1: connectors must not assume where '#n' starts. */
  firstPartitionIndex?: number;
  /** An upload hour is exportable once hourEnd + delay <= now. Default 2 h. */
  availabilityDelayMs?: number;
  /** Export requests whose estimated uncompressed NDJSON size exceeds this get 400. Default 4 GiB. */
  exportSizeLimitBytes?: number;
  /** Size estimate per event for that check. Default 1300. */
  nominalEventBytes?: number;
  /** Concurrent Dashboard REST + cohorts requests allowed per project; 429 above. Default 5. */
  dashboardConcurrency?: number;
  /** Time each Dashboard REST + cohorts response takes, so that concurrent requests overlap. Default 20. */
  dashboardLatencyMs?: number;
  /** Default true; false => /api/2/users?g=country answers Amplitude's 400 envelope. */
  countryGrouping?: boolean;
  /** Default 0; dashboard days are project-local days. */
  projectTimeZoneOffsetMinutes?: number;
  /** Render each hour's gz members once to this directory and serve them from there (for benchmarks). */
  exportCacheDir?: string;
  /** Listener ports on 127.0.0.1. Default 0 (ephemeral) for both. */
  ports?: { standard?: number; eu?: number };
}

export interface ResolvedOptions {
  seed: string;
  seedHash: number;
  projectId: number;
  credentials: Record<Region, Credentials>;
  dataStart: number;
  eventsPerHour: EventsPerHour;
  eventsPerPartition: number;
  firstPartitionIndex: number;
  availabilityDelayMs: number;
  exportSizeLimitBytes: number;
  nominalEventBytes: number;
  dashboardConcurrency: number;
  dashboardLatencyMs: number;
  countryGrouping: boolean;
  projectTimeZoneOffsetMinutes: number;
  exportCacheDir: string | undefined;
  ports: Record<Region, number>;
}

export const DEFAULT_CREDENTIALS: Record<Region, Credentials> = {
  standard: { apiKey: 'std-key', secretKey: 'std-secret' },
  eu: { apiKey: 'eu-key', secretKey: 'eu-secret' },
};

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}

export function resolveOptions(options: SimulatorOptions): ResolvedOptions {
  if (!Number.isFinite(options.dataStart)) throw new RangeError('dataStart (epoch ms) is required');
  const seed = options.seed ?? 'amplitude-sync';
  const seedHash = hashString(seed);
  const perHour = options.eventsPerHour;
  const firstPartitionIndex = options.firstPartitionIndex ?? 0;
  if (firstPartitionIndex !== 0 && firstPartitionIndex !== 1)
    throw new RangeError('firstPartitionIndex must be 0 or 1');
  return {
    seed,
    seedHash,
    projectId: positiveInteger('projectId', options.projectId ?? 187520),
    credentials: options.credentials ?? DEFAULT_CREDENTIALS,
    dataStart: options.dataStart,
    eventsPerHour: typeof perHour === 'number' ? () => perHour : (perHour ?? defaultEventsPerHour(seedHash)),
    eventsPerPartition: positiveInteger('eventsPerPartition', options.eventsPerPartition ?? 5000),
    firstPartitionIndex,
    availabilityDelayMs: options.availabilityDelayMs ?? 2 * HOUR_MS,
    exportSizeLimitBytes: options.exportSizeLimitBytes ?? 4 * 1024 ** 3,
    nominalEventBytes: options.nominalEventBytes ?? 1300,
    dashboardConcurrency: positiveInteger('dashboardConcurrency', options.dashboardConcurrency ?? 5),
    dashboardLatencyMs: options.dashboardLatencyMs ?? 20,
    countryGrouping: options.countryGrouping ?? true,
    projectTimeZoneOffsetMinutes: options.projectTimeZoneOffsetMinutes ?? 0,
    exportCacheDir: options.exportCacheDir,
    ports: { standard: options.ports?.standard ?? 0, eu: options.ports?.eu ?? 0 },
  };
}
