// The events activity: one export window -> hour partitions. It commits hours as the archive moves
// past them and heartbeats the committed boundary, so a retry asks Amplitude only for what is left.
import { randomUUID } from 'node:crypto';
import { ApplicationFailure, activityInfo, cancellationSignal, heartbeat } from '@temporalio/activity';
import type { AmplitudeClient } from '../amplitude/client.ts';
import { FailureType, toFailure } from '../amplitude/errors.ts';
import { EventRecordError } from '../amplitude/event-record.ts';
import type { MemberStart } from '../amplitude/export-decoder.ts';
import { decodeExportOffThread } from '../amplitude/normaliser-thread.ts';
import { HOUR_MS, isoHour, parseIsoHour } from '../amplitude/time.ts';
import { ZipFormatError } from '../amplitude/zip-stream.ts';
import type { LocalDestination, PartitionWritten } from '../destination/local.ts';

export interface ExportWindowInput {
  runKey: string;
  destination: string;
  /** isoHour of the first hour, inclusive. */
  start: string;
  /** isoHour after the last hour (exclusive). */
  end: string;
  /** A 404 for a window ending after this instant (ms) may mean "not there yet" rather than "no data". */
  recentAfter: number;
  notFoundAttempts: number;
  notFoundRetryDelayMs: number;
}

export interface ExportWindowResult {
  start: string;
  end: string;
  /** `not_yet_available`: Amplitude kept answering 404 for a recent window; its hours stay open. */
  status: 'complete' | 'not_yet_available';
  records: number;
  partitions: number;
  bytes: number;
  /** Events Amplitude sent whose upload hour lies outside the requested hours (not written). */
  outsideWindow: number;
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
}

const HEARTBEAT_EVERY_MS = 1000;

export interface ExportDeps {
  amplitude: AmplitudeClient;
  destination(root: string): LocalDestination;
}

function windowName(start: number, end: number): string {
  return `${isoHour(start)}..${isoHour(end - HOUR_MS)}`;
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
  const from = parseIsoHour(progress.committedBefore)!;
  const result = (status: ExportWindowResult['status']): ExportWindowResult => ({
    start: input.start,
    end: input.end,
    status,
    records: progress.records,
    partitions: progress.partitions,
    bytes: progress.bytes,
    outsideWindow: progress.outsideWindow,
    ...(previous && from > windowStart ? { resumedFrom: progress.committedBefore } : {}),
  });
  if (from >= windowEnd) return result('complete');

  const destination = deps.destination(input.destination);
  // Unique across workflows too: another sync (a manual one, another schedule) may write the same hours.
  const writer = destination.hourPartitionWriter(
    `${info.activityId}-${info.attempt}-${randomUUID().slice(0, 8)}`,
  );
  let lastBeat = 0;
  const beat = (force = false) => {
    const now = Date.now();
    if (force || now - lastBeat >= HEARTBEAT_EVERY_MS) {
      heartbeat({ ...progress });
      lastBeat = now;
    }
  };
  // Order matters for exact resume: partitions in place, then their receipt, then the heartbeat.
  const commitBefore = async (boundary: number) => {
    const committedFrom = parseIsoHour(progress.committedBefore)!;
    if (boundary <= committedFrom) return;
    const written: PartitionWritten[] = [];
    for (const hour of writer.pendingHours()) {
      if (hour >= boundary) break;
      const partition = await writer.commit(hour);
      if (partition) written.push(partition);
      beat();
    }
    if (written.length > 0) {
      await destination.writeReceipt(input.runKey, {
        stream: 'events',
        slice: windowName(committedFrom, boundary),
        partitions: written,
      });
    }
    for (const partition of written) {
      progress.records += partition.records;
      progress.partitions += 1;
      progress.bytes += partition.bytes;
    }
    progress.committedBefore = isoHour(boundary);
    beat(true);
  };

  // Amplitude may think for minutes before the first byte: keep the heartbeat alive meanwhile.
  const waiting = setInterval(() => heartbeat({ ...progress }), 5000);
  let response: Awaited<ReturnType<AmplitudeClient['openExport']>>;
  try {
    response = await deps.amplitude.openExport(from, windowEnd - HOUR_MS, { signal: cancellationSignal() });
  } catch (error) {
    throw exportFailure(error, from, windowEnd);
  } finally {
    clearInterval(waiting);
  }

  if (!response.found) {
    if (windowEnd > input.recentAfter) {
      if (info.attempt < input.notFoundAttempts) {
        throw ApplicationFailure.create({
          type: FailureType.ExportNotYetAvailable,
          message: `Amplitude has no export files yet for ${windowName(from, windowEnd)} (HTTP 404); recent data can be late, asking again (attempt ${info.attempt} of ${input.notFoundAttempts})`,
          nextRetryDelay: input.notFoundRetryDelayMs,
          category: 'BENIGN',
        });
      }
      return result('not_yet_available');
    }
    await destination.writeReceipt(input.runKey, {
      stream: 'events',
      slice: windowName(from, windowEnd),
      partitions: [],
      note: 'Amplitude answered 404 (no data) for this window',
    });
    return result('complete');
  }

  const order = new MemberOrder(from, progress.ordered);
  try {
    for await (const chunk of decodeExportOffThread(response.body)) {
      if (chunk.kind === 'member') {
        const boundary = order.next(chunk);
        if (boundary !== undefined) await commitBefore(Math.min(boundary, windowEnd));
        continue;
      }
      for (const { hour, bytes, records, written } of chunk.outputs) {
        if (hour < from || hour >= windowEnd) {
          progress.outsideWindow += records;
          written();
          continue;
        }
        if (hour < parseIsoHour(progress.committedBefore)!) throw outOfOrder(progress, hour, from);
        await writer.write(hour, bytes, records, written);
      }
      beat();
    }
    await commitBefore(windowEnd);
  } catch (error) {
    await writer.abort();
    response.body.destroy();
    throw exportFailure(error, from, windowEnd);
  }
  return result('complete');
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

function exportFailure(error: unknown, from: number, end: number): ApplicationFailure {
  const context = `export ${windowName(from, end)}`;
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
