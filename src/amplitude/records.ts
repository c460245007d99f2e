// Amplitude's JSON answers -> the records we store, with shape checks that say what was unexpected.
import { z } from 'zod';
import type { StreamName } from './streams.ts';

export class UnexpectedResponseError extends Error {
  override name = 'UnexpectedResponseError';
}

function parse<T>(schema: z.ZodType<T>, body: unknown, endpoint: string): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new UnexpectedResponseError(
      `${endpoint} answered with an unexpected shape (${issue?.path.join('.') || 'body'}: ${issue?.message}); Amplitude may have changed the API`,
    );
  }
  return result.data;
}

const seriesChart = z.object({
  data: z.object({
    xValues: z.array(z.string()),
    series: z.array(z.array(z.number().nullable())),
    seriesLabels: z.array(z.unknown()).optional(),
  }),
});

/** A series label as Amplitude sends it (`0`, `"Canada"`, or `[0, "Canada"]`) as a statistics key. */
function labelKey(label: unknown): string {
  const value = Array.isArray(label) ? label[label.length - 1] : label;
  return typeof value === 'string' ? value : JSON.stringify(value ?? null);
}

export interface ActiveUsersRecord {
  date: string;
  statistics: Record<string, number>;
}

/** Transposes `series` (one row per label) over `xValues` (one column per day). */
export function activeUsersRecords(body: unknown): ActiveUsersRecord[] {
  const { data } = parse(seriesChart, body, '/api/2/users');
  const labels = data.seriesLabels ?? data.series.map((_, index) => index);
  if (labels.length !== data.series.length) {
    throw new UnexpectedResponseError(
      `/api/2/users answered ${data.series.length} series but ${labels.length} seriesLabels`,
    );
  }
  return data.xValues.map((date, day) => ({
    date,
    statistics: Object.fromEntries(
      labels.map((label, row) => [labelKey(label), data.series[row]?.[day] ?? 0]),
    ),
  }));
}

export interface SessionLengthRecord {
  date: string;
  length: number;
}

export function averageSessionLengthRecords(body: unknown): SessionLengthRecord[] {
  const { data } = parse(seriesChart, body, '/api/2/sessions/average');
  const lengths = data.series[0] ?? [];
  return data.xValues.map((date, day) => ({ date, length: lengths[day] ?? 0 }));
}

/** Event Segmentation totals, one per xValue (a project-local day, or hour `YYYY-MM-DDTHH:00:00`). */
export function eventTotals(body: unknown): Array<{ x: string; count: number }> {
  const { data } = parse(seriesChart, body, '/api/2/events/segmentation');
  const totals = data.series[0] ?? [];
  return data.xValues.map((x, index) => ({ x, count: totals[index] ?? 0 }));
}

const listOf = (key: 'data' | 'cohorts') => z.object({ [key]: z.array(z.record(z.string(), z.unknown())) });

export type SnapshotStream = Extract<StreamName, 'annotations' | 'cohorts' | 'events_list'>;

export const SNAPSHOT_RECORDS: Record<SnapshotStream, (body: unknown) => Record<string, unknown>[]> = {
  annotations: (body) => parse(listOf('data'), body, '/api/2/annotations').data as Record<string, unknown>[],
  cohorts: (body) => parse(listOf('cohorts'), body, '/api/3/cohorts').cohorts as Record<string, unknown>[],
  events_list: (body) => parse(listOf('data'), body, '/api/2/events/list').data as Record<string, unknown>[],
};
