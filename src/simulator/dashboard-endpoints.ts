import { DAY_MS, parseDashboardDateParam } from '../amplitude/time.ts';
import type { DashboardData, DaySeries } from './dashboard-data.ts';
import type { EventTotals } from './event-totals.ts';
import type { Endpoint } from './faults.ts';
import { errorEnvelope } from './http-responses.ts';

/** A sanity bound on one request's date range; Amplitude's own bound is not documented. */
const MAX_DAYS = 3660;
/** Amplitude: "hourly segmentation displays up to 7 days of data, and daily displays up to 365 days". */
const MAX_HOURLY_DAYS = 7;
const MAX_DAILY_DAYS = 365;
const HOURLY = '-3600000';
const NEW_USER_SHARE = 0.08;

export type DashboardEndpoint = Exclude<Endpoint, 'export'>;

export interface DashboardResponse {
  status: number;
  body: unknown;
}

export interface DashboardContext {
  data: DashboardData;
  eventTotals: EventTotals;
  countryGrouping: boolean;
}

const invalid = (details: string, message = 'Invalid request'): DashboardResponse => ({
  status: 400,
  body: errorEnvelope(400, 'invalid', message, details),
});

function parseDays(query: Record<string, string>): { first: number; last: number } | DashboardResponse {
  for (const name of ['start', 'end'] as const) {
    if (!query[name]) return invalid(`Missing required parameter ${name} (YYYYMMDD)`);
  }
  const first = parseDashboardDateParam(query.start!);
  const last = parseDashboardDateParam(query.end!);
  if (first === undefined) return invalid(`Invalid start date ${query.start}: expected YYYYMMDD`);
  if (last === undefined) return invalid(`Invalid end date ${query.end}: expected YYYYMMDD`);
  if (first > last) return invalid(`start ${query.start} is after end ${query.end}`);
  if ((last - first) / DAY_MS + 1 > MAX_DAYS)
    return invalid(`The date range is longer than ${MAX_DAYS} days`);
  return { first, last };
}

function chart(series: DaySeries): DashboardResponse {
  return {
    status: 200,
    body: {
      data: {
        xValues: series.xValues,
        series: series.series,
        seriesCollapsed: series.series.map(() => [0]),
        seriesLabels: series.labels,
        seriesMeta: series.series.map(() => ({ segmentIndex: 0 })),
      },
    },
  };
}

function activeUsers(
  query: Record<string, string>,
  context: DashboardContext,
  now: number,
): DashboardResponse {
  const days = parseDays(query);
  if ('status' in days) return days;
  const metric = query.m ?? 'active';
  if (metric !== 'active' && metric !== 'new')
    return invalid(`Invalid metric m=${metric}: expected active or new`);
  // Amplitude also offers weekly (7) and monthly (30) intervals; the simulator serves daily counts only.
  if ((query.i ?? '1') !== '1')
    return invalid(`Unsupported interval i=${query.i}: the simulator serves i=1 (daily)`);
  const groupBy = query.g;
  if (groupBy !== undefined && (groupBy !== 'country' || !context.countryGrouping)) {
    return invalid(`Invalid user property ${groupBy}`, 'Invalid chart definition');
  }
  const series = context.data.activeUsers(days.first, days.last, now, groupBy === 'country');
  if (metric === 'new') {
    series.series = series.series.map((row) => row.map((count) => Math.floor(count * NEW_USER_SHARE)));
  }
  return chart(series);
}

function averageSessionLength(query: Record<string, string>, context: DashboardContext, now: number) {
  const days = parseDays(query);
  if ('status' in days) return days;
  return chart(context.data.averageSessionLength(days.first, days.last, now));
}

function eventSegmentation(
  query: Record<string, string>,
  context: DashboardContext,
  now: number,
): DashboardResponse {
  let event: { event_type?: unknown };
  try {
    event = JSON.parse(query.e ?? '');
  } catch {
    return invalid('Missing or malformed parameter e: expected a JSON event such as {"event_type":"_all"}');
  }
  if (event?.event_type !== '_all') {
    return invalid(`Unsupported event ${query.e}: the simulator serves {"event_type":"_all"} only`);
  }
  if ((query.m ?? 'uniques') !== 'totals') {
    return invalid(`Unsupported metric m=${query.m ?? 'uniques'}: the simulator serves m=totals only`);
  }
  const days = parseDays(query);
  if ('status' in days) return days;
  const count = (days.last - days.first) / DAY_MS + 1;
  const interval = query.i ?? '1';
  let series: DaySeries;
  if (interval === HOURLY) {
    if (count > MAX_HOURLY_DAYS) return invalid(`Hourly segmentation covers at most ${MAX_HOURLY_DAYS} days`);
    series = context.eventTotals.hourly(days.first, days.last, now);
  } else if (interval === '1') {
    if (count > MAX_DAILY_DAYS) return invalid(`Daily segmentation covers at most ${MAX_DAILY_DAYS} days`);
    series = context.eventTotals.daily(days.first, days.last, now);
  } else {
    return invalid(
      `Unsupported interval i=${interval}: the simulator serves i=1 (daily) and i=${HOURLY} (hourly)`,
    );
  }
  const response = chart(series);
  // The bar-chart value: the total over the whole range.
  const total = series.series[0]!.reduce((sum, value) => sum + value, 0);
  (response.body as { data: Record<string, unknown> }).data.seriesCollapsed = [[{ setId: '', value: total }]];
  return response;
}

function annotations(query: Record<string, string>, context: DashboardContext): DashboardResponse {
  const all = context.data.annotations();
  if (query.id === undefined) return { status: 200, body: { data: all } };
  if (!/^\d+$/.test(query.id)) return invalid(`Invalid annotation id ${query.id}`);
  const found = all.find((annotation) => annotation.id === Number(query.id));
  if (!found) {
    return {
      status: 404,
      body: errorEnvelope(404, 'not_found', 'Annotation not found', `No annotation with id ${query.id}`),
    };
  }
  return { status: 200, body: { data: [found] } };
}

export function decideDashboard(
  endpoint: DashboardEndpoint,
  query: Record<string, string>,
  context: DashboardContext,
  now: number,
): DashboardResponse {
  switch (endpoint) {
    case 'users':
      return activeUsers(query, context, now);
    case 'sessions':
      return averageSessionLength(query, context, now);
    case 'annotations':
      return annotations(query, context);
    case 'cohorts':
      return { status: 200, body: { cohorts: context.data.cohorts() } };
    case 'events_list':
      return { status: 200, body: { data: context.data.eventsList() } };
    case 'segmentation':
      return eventSegmentation(query, context, now);
  }
}

/** At most `limit` requests in flight per project across the Dashboard REST and cohort endpoints. */
export class ConcurrencyGate {
  private inFlight = 0;
  /** The most requests at once the project was asked, refused ones included. */
  peak = 0;

  constructor(readonly limit: number) {}

  tryAcquire(): (() => void) | undefined {
    this.peak = Math.max(this.peak, this.inFlight + 1);
    if (this.inFlight >= this.limit) return undefined;
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }
}

export function concurrencyLimitResponse(limit: number): DashboardResponse {
  return {
    status: 429,
    body: errorEnvelope(
      429,
      'rate_limit',
      'Too many concurrent requests',
      `Exceeded the concurrent limit: up to ${limit} concurrent requests per project across the Dashboard REST API and cohort endpoints`,
    ),
  };
}
