// Dashboard streams (one month slice of complete days -> one partition) and full-refresh snapshots.
import { ApplicationFailure, cancellationSignal } from '@temporalio/activity';
import type { AmplitudeClient } from '../amplitude/client.ts';
import { FailureType, toFailure } from '../amplitude/errors.ts';
import {
  activeUsersRecords,
  averageSessionLengthRecords,
  SNAPSHOT_RECORDS,
  type SnapshotStream,
  UnexpectedResponseError,
} from '../amplitude/records.ts';
import { STREAMS } from '../amplitude/streams.ts';
import { DAY_MS, dashboardDateParam, isoDate, parseIsoDate } from '../amplitude/time.ts';
import type { PartitionWritten } from '../destination/destination.ts';
import { dashboardMonthPartition, snapshotPartition } from '../destination/layout.ts';
import type { OpenDestination } from '../destination/open.ts';
import { compressionOf, type DestinationSpec } from '../destination/spec.ts';

export type DashboardStream = 'active_users' | 'average_session_length';

export interface DashboardSliceInput {
  runKey: string;
  destination: string | DestinationSpec;
  stream: DashboardStream;
  /** First day, `YYYY-MM-DD` (project-local calendar day). */
  start: string;
  /** Day after the last one (exclusive). */
  end: string;
  groupByCountry: boolean;
}

export interface SliceResult {
  stream: string;
  partition: string;
  records: number;
  bytes: number;
  /** Days Amplitude did not return although they were asked for. */
  missingDays?: string[];
}

export interface DashboardDeps {
  amplitude: AmplitudeClient;
  destination: OpenDestination;
}

function shapeFailure(error: unknown, context: string): ApplicationFailure {
  if (error instanceof UnexpectedResponseError) {
    return ApplicationFailure.create({
      type: FailureType.BadRequest,
      nonRetryable: true,
      message: `${context}: ${error.message}`,
    });
  }
  return toFailure(error, context);
}

export async function fetchDashboardSlice(
  deps: DashboardDeps,
  input: DashboardSliceInput,
): Promise<SliceResult> {
  const start = parseIsoDate(input.start)!;
  const end = parseIsoDate(input.end)!;
  const endpoint = STREAMS[input.stream].endpoint;
  const context = `${input.stream} ${input.start}..${isoDate(end - DAY_MS)}`;
  const query: Record<string, string> = {
    start: dashboardDateParam(start),
    end: dashboardDateParam(end - DAY_MS),
  };
  if (input.stream === 'active_users') {
    Object.assign(query, { m: 'active', i: '1' }, input.groupByCountry ? { g: 'country' } : {});
  }
  let records: Array<{ date: string }>;
  try {
    const body = await deps.amplitude.getJson(endpoint, query, { signal: cancellationSignal() });
    records = input.stream === 'active_users' ? activeUsersRecords(body) : averageSessionLengthRecords(body);
  } catch (error) {
    throw shapeFailure(error, context);
  }
  const wanted = records.filter((record) => record.date >= input.start && record.date < input.end);
  const returned = new Set(wanted.map((record) => record.date));
  const missingDays: string[] = [];
  for (let day = start; day < end; day += DAY_MS)
    if (!returned.has(isoDate(day))) missingDays.push(isoDate(day));

  const destination = await deps.destination(input.destination, input.runKey);
  let written: PartitionWritten;
  try {
    written = await destination.replacePartition(
      dashboardMonthPartition(input.stream, start, compressionOf(input.destination)),
      wanted,
    );
    await destination.writeReceipt(input.runKey, {
      stream: input.stream,
      slice: `${input.start}..${isoDate(end - DAY_MS)}`,
      partitions: [written],
      ...(missingDays.length > 0 ? { missingDays } : {}),
    });
  } catch (error) {
    throw toFailure(error, context);
  }
  return { stream: input.stream, ...written, ...(missingDays.length > 0 ? { missingDays } : {}) };
}

export interface SnapshotInput {
  runKey: string;
  destination: string | DestinationSpec;
  stream: SnapshotStream;
}

export async function fetchSnapshot(deps: DashboardDeps, input: SnapshotInput): Promise<SliceResult> {
  const endpoint = STREAMS[input.stream].endpoint;
  let records: Record<string, unknown>[];
  try {
    records = SNAPSHOT_RECORDS[input.stream](
      await deps.amplitude.getJson(endpoint, {}, { signal: cancellationSignal() }),
    );
  } catch (error) {
    throw shapeFailure(error, `${input.stream} snapshot`);
  }
  const destination = await deps.destination(input.destination, input.runKey);
  let written: PartitionWritten;
  try {
    written = await destination.replacePartition(
      snapshotPartition(input.stream, compressionOf(input.destination)),
      records,
    );
    await destination.writeReceipt(input.runKey, {
      stream: input.stream,
      slice: 'snapshot',
      partitions: [written],
    });
  } catch (error) {
    throw toFailure(error, `${input.stream} snapshot`);
  }
  return { stream: input.stream, ...written };
}
