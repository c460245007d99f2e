// The events activity: one export window -> hour partitions. It commits hours as the archive moves
// past them and heartbeats the committed boundary, so a retry asks Amplitude only for what is left.
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { AmplitudeClient, ExportResponse } from '../amplitude/client.ts';
import {
  exportHourFailure,
  FailureType,
  isExportTimeout,
  isExportTooLarge,
  toFailure,
} from '../amplitude/errors.ts';
import { EventRecordError } from '../amplitude/event-record.ts';
import { hourEventCount } from '../amplitude/event-totals.ts';
import type { MemberStart } from '../amplitude/export-decoder.ts';
import { decodeExportOffThread } from '../amplitude/normaliser-thread.ts';
import { HOUR_MS, isoHour, isoInterval, parseIsoHour } from '../amplitude/time.ts';
import { ZipFormatError } from '../amplitude/zip-stream.ts';
import type { OpenDestination } from '../destination/open.ts';
import type { DestinationSpec } from '../destination/spec.ts';
import { HourCommits } from './hour-commits.ts';

export interface ExportWindowInput {
  runKey: string;
  destination: string | DestinationSpec;
  /** isoHour of the first hour, inclusive. */
  start: string;
  /** isoHour after the last hour (exclusive). */
  end: string;
  /** Wait before a 404 is asked once more, within this attempt. */
  notFoundRetryDelayMs: number;
  /** False for hours already on the re-check list (asked twice before): one ask is enough. */
  askTwiceOn404?: boolean;
  /** A one-hour window that times out is asked this many times in all before the stream fails. */
  hourTimeoutAttempts: number;
  /** The first wait after a one-hour timeout; it doubles with each further timeout. */
  hourTimeoutRetryMs: number;
  /** The project's time zone, to tell the size of an hour that keeps timing out. */
  projectTimezone: string;
}

export interface ExportWindowResult {
  start: string;
  end: string;
  /**
   * `not_found`: Amplitude answered 404 twice (no data, or data it has not got ready: the workflow puts
   * the hours on its re-check list). `not_yet_available` came from earlier versions.
   */
  status: 'complete' | 'not_found' | 'not_yet_available';
  records: number;
  partitions: number;
  bytes: number;
  /** Events Amplitude sent whose upload hour lies outside the requested hours (not written). */
  outsideWindow: number;
  /** The hours that got a partition, as merged ISO intervals. */
  hoursWritten?: string[];
  /** Set when this attempt continued from hours an earlier attempt committed. */
  resumedFrom?: string;
}

/** Heartbeat details: every hour before `committedBefore` is in place. */
export interface ExportProgress {
  committedBefore: string;
  /** False once Amplitude was seen sending hours out of order: then hours commit only at the end. */
  ordered: boolean;
  records: number;
  partitions: number;
  bytes: number;
  outsideWindow: number;
  /** Hours committed with a partition, as merged [start, end) epoch ms pairs. */
  written?: Array<[number, number]>;
  /** Times Amplitude timed out on this (one-hour) window, over all attempts. */
  timeouts?: number;
}

const HEARTBEAT_EVERY_MS = 1000;

export interface ExportDeps {
  amplitude: AmplitudeClient;
  destination: OpenDestination;
}

function windowName(start: number, end: number): string {
  return `${isoHour(start)}..${isoHour(end - HOUR_MS)}`;
}

function addHour(spans: Array<[number, number]>, hour: number): void {
  const last = spans[spans.length - 1];
  if (last && last[1] === hour) last[1] = hour + HOUR_MS;
  else spans.push([hour, hour + HOUR_MS]);
}

export async function exportWindow(deps: ExportDeps, input: ExportWindowInput): Promise<ExportWindowResult> {
  const windowStart = parseIsoHour(input.start)!;
  const windowEnd = parseIsoHour(input.end)!;
  const info = activityInfo();
  const previous = info.heartbeatDetails as ExportProgress | undefined;
  const progress: ExportProgress = previous ?? {
    committedBefore: input.start,
    ordered: true,
    records: 0,
    partitions: 0,
    bytes: 0,
    outsideWindow: 0,
  };
  progress.written ??= [];
  const from = parseIsoHour(progress.committedBefore)!;
  const result = (status: ExportWindowResult['status']): ExportWindowResult => ({
    start: input.start,
    end: input.end,
    status,
    records: progress.records,
    partitions: progress.partitions,
    bytes: progress.bytes,
    outsideWindow: progress.outsideWindow,
    ...(progress.written!.length > 0
      ? { hoursWritten: progress.written!.map(([start, end]) => isoInterval(start, end)) }
      : {}),
    ...(previous && from > windowStart ? { resumedFrom: progress.committedBefore } : {}),
  });
  if (from >= windowEnd) return result('complete');

  const destination = await deps.destination(input.destination, input.runKey);
  // Unique across workflows too: another sync (a manual one, another schedule) may write the same hours.
  const writer = destination.hourWriter(`${info.activityId}-${info.attempt}-${randomUUID().slice(0, 8)}`);
  let lastBeat = 0;
  const beat = (force = false) => {
    const now = Date.now();
    if (force || now - lastBeat >= HEARTBEAT_EVERY_MS) {
      heartbeat({ ...progress });
      lastBeat = now;
    }
  };
  const commits = new HourCommits(
    writer,
    destination,
    { runKey: input.runKey, slice: windowName },
    from,
    (boundary, written) => {
      for (const partition of written) {
        addHour(progress.written!, partition.hour);
        progress.records += partition.records;
        progress.partitions += 1;
        progress.bytes += partition.bytes;
      }
      progress.committedBefore = isoHour(boundary);
      beat(true);
    },
  );

  let response: ExportResponse;
  try {
    response = await openExport(deps.amplitude, from, windowEnd, progress);
    if (!response.found && input.askTwiceOn404 !== false) {
      // Asked once more after a short wait: a single 404 is no proof (DESIGN.md §3).
      await waitHeartbeating(input.notFoundRetryDelayMs, progress);
      response = await openExport(deps.amplitude, from, windowEnd, progress);
    }
    if (!response.found) {
      await destination.writeReceipt(input.runKey, {
        stream: 'events',
        slice: windowName(from, windowEnd),
        partitions: [],
        note: 'Amplitude answered 404 (no data); these hours are asked again by later syncs',
      });
      return result('not_found');
    }
  } catch (error) {
    throw await exportFailure(deps.amplitude, error, from, windowEnd, progress, input);
  }

  const order = new MemberOrder(from, progress.ordered);
  try {
    for await (const chunk of decodeExportOffThread(response.body)) {
      if (chunk.kind === 'member') {
        const boundary = order.next(chunk);
        if (boundary !== undefined) await commits.commitBefore(Math.min(boundary, windowEnd));
        continue;
      }
      for (const { hour, bytes, records, written } of chunk.outputs) {
        if (hour < from || hour >= windowEnd) {
          progress.outsideWindow += records;
          written();
          continue;
        }
        if (hour < commits.scheduledBefore) throw outOfOrder(progress, hour, from);
        await writer.write(hour, bytes, records, written);
      }
      beat();
    }
    await commits.commitBefore(windowEnd);
    await commits.finish();
  } catch (error) {
    await commits.abandon();
    await writer.abort();
    response.body.destroy();
    throw await exportFailure(deps.amplitude, error, from, windowEnd, progress, input);
  }
  return result('complete');
}

/** Opens the download; Amplitude may think for minutes before the first byte, so the heartbeat goes on. */
async function openExport(
  amplitude: AmplitudeClient,
  from: number,
  end: number,
  progress: ExportProgress,
): Promise<ExportResponse> {
  const waiting = setInterval(() => heartbeat({ ...progress }), 5000);
  try {
    return await amplitude.openExport(from, end - HOUR_MS, { signal: cancellationSignal() });
  } finally {
    clearInterval(waiting);
  }
}

async function waitHeartbeating(ms: number, progress: ExportProgress): Promise<void> {
  const waiting = setInterval(() => heartbeat({ ...progress }), 5000);
  try {
    await sleep(ms, undefined, { signal: cancellationSignal() });
  } finally {
    clearInterval(waiting);
  }
}

/**
 * Decides when hours may be committed in the middle of a download. Nothing says Amplitude sends the
 * members in order, so an hour counts as complete only while the archive has run exactly in order:
 * starting at the first hour asked for, partitions of an hour ascending, each next hour the one right
 * after. Anything else (a gap, a repeat, a step back, a name not in Amplitude's form) stops the
 * commits for the rest of this download: its hours are then committed when it has been read to the end.
 */
export class MemberOrder {
  #hour: number | undefined;
  #partition = -1;

  constructor(
    private readonly from: number,
    private progressive: boolean,
  ) {}

  /** The boundary before which hours are complete, when this member proves one. */
  next(member: MemberStart): number | undefined {
    if (!this.progressive) return undefined;
    const { hour, partition } = member;
    const inOrder =
      hour !== undefined &&
      partition !== undefined &&
      (this.#hour === undefined
        ? hour === this.from
        : (hour === this.#hour && partition > this.#partition) || hour === this.#hour + HOUR_MS);
    if (!inOrder) {
      this.progressive = false;
      return undefined;
    }
    const boundary = this.#hour !== undefined && hour !== this.#hour ? hour : undefined;
    this.#hour = hour;
    this.#partition = partition;
    return boundary;
  }
}

/** Events of an hour already committed arrived late: start this download over, without early commits. */
function outOfOrder(progress: ExportProgress, hour: number, from: number): ApplicationFailure {
  progress.committedBefore = isoHour(from);
  progress.ordered = false;
  heartbeat({ ...progress });
  return ApplicationFailure.create({
    type: FailureType.Unavailable,
    message: `Amplitude sent events of ${isoHour(hour)} after later hours; retrying from ${isoHour(from)}, committing hours only at the end of the download`,
  });
}

/**
 * The DESIGN.md §4 policy for windows Amplitude cannot serve. Several hours: split at once, whether
 * Amplitude refused them as too large (400) or gave up on them (504, or a reset before the first
 * byte): smaller windows succeed whatever the cause was. One hour: a 400 cannot get better, but a
 * timeout may pass, so it is retried with a long backoff before the stream fails.
 */
async function exportFailure(
  amplitude: AmplitudeClient,
  error: unknown,
  from: number,
  end: number,
  progress: ExportProgress,
  input: ExportWindowInput,
): Promise<ApplicationFailure> {
  const context = `export ${windowName(from, end)}`;
  const oneHour = end - from === HOUR_MS;
  if ((isExportTimeout(error) || isExportTooLarge(error)) && !oneHour) {
    return ApplicationFailure.create({
      type: FailureType.ExportWindowTooLarge,
      nonRetryable: true,
      message: `${context}: Amplitude cannot serve this window in one request (${(error as Error).message}); it is split into smaller windows`,
    });
  }
  if (isExportTimeout(error) && oneHour) {
    progress.timeouts = (progress.timeouts ?? 0) + 1;
    heartbeat({ ...progress });
    const timeouts = progress.timeouts;
    const cause = (error as Error).message;
    if (timeouts >= input.hourTimeoutAttempts) {
      const count = await hourEventCount(amplitude, from, input.projectTimezone);
      const size = count === undefined ? '' : ` (Amplitude's charts count about ${count} events in it)`;
      return exportHourFailure(
        isoHour(from),
        `Amplitude timed out ${timeouts} times on it${size}; last: ${cause}`,
      );
    }
    const delay = input.hourTimeoutRetryMs * 2 ** (timeouts - 1);
    return ApplicationFailure.create({
      type: FailureType.ExportHourTimedOut,
      message: `${context}: Amplitude timed out on this hour (${cause}); asking again in ${Math.round(delay / 1000)} s (timeout ${timeouts} of at most ${input.hourTimeoutAttempts})`,
      nextRetryDelay: delay,
    });
  }
  if (isExportTooLarge(error) && oneHour) {
    return exportHourFailure(
      isoHour(from),
      `Amplitude refused it as too large (${(error as Error).message})`,
    );
  }
  if (error instanceof EventRecordError) {
    return ApplicationFailure.create({
      type: FailureType.BadRequest,
      nonRetryable: true,
      message: `${context}: Amplitude sent data this connector cannot read: ${error.message}. The uncommitted hours were not written.`,
    });
  }
  if (error instanceof ZipFormatError) {
    return ApplicationFailure.create({
      type: FailureType.Unavailable,
      message: `${context}: the download was unusable (${error.message}); retrying`,
    });
  }
  return toFailure(error, context);
}
