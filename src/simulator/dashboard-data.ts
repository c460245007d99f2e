import { DAY_MS, isoDate } from '../amplitude/time.ts';
import { COUNTRIES, EVENT_TYPES, NO_COUNTRY_LABEL } from './catalog.ts';
import { Random, seedOf } from './random.ts';

/** The country labels of `/api/2/users?g=country`, in series order. */
export const COUNTRY_LABELS: string[] = COUNTRIES.map(({ country }) => country ?? NO_COUNTRY_LABEL);

export interface DashboardSettings {
  seedHash: number;
  projectId: number;
  dataStart: number;
  projectTimeZoneOffsetMinutes: number;
}

export interface Annotation {
  id: number;
  date: string;
  label: string;
  details: string | null;
}

export interface DaySeries {
  xValues: string[];
  labels: (string | number)[];
  series: number[][];
}

const ANNOTATIONS: Omit<Annotation, 'id' | 'date'>[] = [
  { label: 'Pricing page v2', details: 'A/B winner shipped to 100%' },
  { label: 'iOS 5.0 release 📱', details: null },
  { label: 'Outage — EU ingestion delayed', details: 'Events arrived up to 3 h late; see status page.' },
  { label: 'Kampagne: Frühling 🌷', details: 'Paid social + e-mail, “Spring24” code' },
  { label: 'Tracking plan: renamed "Signup" → "Signed Up"', details: null },
  { label: 'Black Friday', details: 'Traffic ×3 expected' },
];

/**
 * Dashboard REST values: a pure function of seed and project-local date, except that a day which
 * has not ended yet in project time is partial and grows with the simulated clock.
 */
export class DashboardData {
  constructor(private readonly settings: DashboardSettings) {}

  private get offsetMs(): number {
    return this.settings.projectTimeZoneOffsetMinutes * 60_000;
  }

  /** Project-local dates as UTC-midnight ms, from `first` to `last` inclusive. */
  days(first: number, last: number): number[] {
    const days: number[] = [];
    for (let day = first; day <= last; day += DAY_MS) days.push(day);
    return days;
  }

  /** How much of the project-local day has happened at `now`: 0 before it (or before the data), 1 once it ended. */
  private elapsedFraction(day: number, now: number): number {
    const dayStart = day - this.offsetMs;
    if (dayStart + DAY_MS <= this.settings.dataStart) return 0;
    return Math.min(1, Math.max(0, (now - dayStart) / DAY_MS));
  }

  private activeUsersOfCountry(day: number, countryIndex: number): number {
    const random = new Random(seedOf(this.settings.seedHash, 0xac7, day / DAY_MS, countryIndex));
    const weekday = new Date(day).getUTCDay();
    const weekly = weekday === 0 || weekday === 6 ? 0.7 : 1;
    const share = COUNTRIES[countryIndex]!.weight / 100;
    return Math.round(900 * share * weekly * (0.85 + 0.3 * random.float()));
  }

  activeUsers(first: number, last: number, now: number, byCountry: boolean): DaySeries {
    const days = this.days(first, last);
    const perCountry = COUNTRIES.map((_, countryIndex) =>
      days.map((day) =>
        Math.floor(this.activeUsersOfCountry(day, countryIndex) * this.elapsedFraction(day, now)),
      ),
    );
    const xValues = days.map(isoDate);
    if (byCountry) return { xValues, labels: COUNTRY_LABELS, series: perCountry };
    const totals = days.map((_, i) => perCountry.reduce((sum, row) => sum + row[i]!, 0));
    return { xValues, labels: [0], series: [totals] };
  }

  averageSessionLength(first: number, last: number, now: number): DaySeries {
    const days = this.days(first, last);
    const lengths = days.map((day) => {
      const random = new Random(seedOf(this.settings.seedHash, 0x5e55, day / DAY_MS));
      if (random.chance(0.1)) return 0;
      const full = 120 + random.float() * 780;
      return Math.round(full * this.elapsedFraction(day, now) * 100) / 100;
    });
    return { xValues: days.map(isoDate), labels: [0], series: [lengths] };
  }

  annotations(): Annotation[] {
    const firstDay = Math.floor((this.settings.dataStart + this.offsetMs) / DAY_MS) * DAY_MS;
    return ANNOTATIONS.map((annotation, i) => ({
      id: 310_001 + i,
      date: isoDate(firstDay + i * 4 * DAY_MS),
      ...annotation,
    }));
  }

  cohorts(): Record<string, unknown>[] {
    const { projectId, seedHash, dataStart } = this.settings;
    const random = new Random(seedOf(seedHash, 0xc0407));
    const epochSeconds = (ms: number) => Math.floor(ms / 1000);
    const cohort = (
      id: string,
      name: string,
      description: string,
      overrides: Record<string, unknown> = {},
    ): Record<string, unknown> => {
      const createdAt = epochSeconds(dataStart) - random.between(30, 400) * 86_400;
      const lastMod = createdAt + random.between(1, 29) * 86_400;
      return {
        appId: projectId,
        archived: false,
        definition: {
          version: 3,
          countGroup: { name: 'User', is_computed: false },
          cohortType: 'UNIQUES',
          andClauses: [
            {
              negated: false,
              orClauses: [{ type: 'event', offset: 0, interval: 1, time_type: 'rolling', time_value: 30 }],
            },
          ],
          referenceFrameTimeParams: {},
        },
        description,
        finished: true,
        id,
        name,
        owners: ['owner@example.com'],
        viewers: [],
        published: true,
        size: random.between(10, 50_000),
        type: 'redshift',
        lastMod,
        createdAt,
        lastComputed: lastMod + random.between(60, 86_400),
        hidden: false,
        metadata: null,
        view_count: null,
        popularity: null,
        last_viewed: null,
        chart_id: null,
        edit_id: null,
        is_predictive: false,
        is_official_content: false,
        location_id: null,
        shortcut_ids: [],
        ...overrides,
      };
    };
    return [
      cohort('7rq2ab1', 'Recent payers', 'Paid in the last 30 days'),
      cohort('5mjbq8w', 'Power users 💪', 'Active 20 of the last 30 days', {
        owners: ['owner@example.com', 'analyst@example.com'],
        viewers: ['ceo@example.com'],
        metadata: ['imported'],
        view_count: 42,
        popularity: 7,
      }),
      cohort('k2x9pqz', 'Churn risk — Côte d’Ivoire', 'Inactive for 14 days', { is_predictive: true }),
      cohort('a0zz31c', 'Old beta testers', '', { archived: true, published: false, shortcut_ids: ['s-1'] }),
    ];
  }

  eventsList(): Record<string, unknown>[] {
    const random = new Random(seedOf(this.settings.seedHash, 0xe7e5));
    const listed: Record<string, unknown>[] = EVENT_TYPES.map(({ name }, i) => ({
      id: 90_001 + i,
      value: name,
      name,
      display: name.replace(/^\[Amplitude\] /, ''),
      totals: random.between(0, 60_000),
      totals_delta: random.between(-2_000, 2_000),
      non_active: false,
      deleted: false,
      hidden: false,
      flow_hidden: false,
      autohidden: false,
      clusters_hidden: false,
      in_waitroom: false,
      timeline_hidden: false,
    }));
    listed.push({
      id: 90_001 + listed.length,
      value: 'Legacy Checkout',
      name: 'Legacy Checkout',
      display: 'Legacy Checkout (old)',
      totals: 0,
      totals_delta: -12,
      non_active: true,
      deleted: true,
      hidden: false,
      flow_hidden: true,
      autohidden: true,
      clusters_hidden: true,
      in_waitroom: false,
      timeline_hidden: true,
    });
    return listed;
  }
}
