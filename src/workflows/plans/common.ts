// What every stream plan shares: the plan's shape, the activity proxies and the summary bookkeeping.
import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../activities/index.ts';
import { FailureType } from '../../amplitude/errors.ts';
import type { Span } from '../plan.ts';
import type { SliceOutcome } from '../slices.ts';
import type { StreamInput, StreamSummary, Tuning } from '../types.ts';

export interface StreamPlan {
  /** What this sync covers; the watermark moves from range.start over contiguous completed slices. */
  range: Span;
  /** The slices a first run starts with. */
  initial: Span[];
  /** The slices of a span carried over continue-as-new (export windows, months, the snapshot). */
  cut(span: Span): Span[];
  run(span: Span): Promise<SliceOutcome>;
  /** The state cursor for a watermark at `end` (epoch ms). */
  cursor(end: number): string;
  /** The stored cursor as epoch ms. */
  parseCursor(cursor: string): number;
}

export type PlanFactory = (
  input: StreamInput,
  tuning: Tuning,
  plannedAt: number,
  summary: StreamSummary,
) => StreamPlan;

export function activities(tuning: Tuning) {
  const retry = {
    initialInterval: tuning.retryInitialIntervalMs,
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: tuning.maximumAttempts,
  };
  return {
    exporting: proxyActivities<Activities>({
      startToCloseTimeout: '12 hours',
      heartbeatTimeout: tuning.exportHeartbeatTimeoutMs,
      // Room for the timeouts of a one-hour window on top of the transient failures.
      retry: { ...retry, maximumAttempts: tuning.maximumAttempts + tuning.hourTimeoutAttempts },
    }),
    dashboard: proxyActivities<Activities>({
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: '30 seconds',
      retry,
    }),
  };
}

/** The connection an activity uses, when the sync names one (older inputs do not: the worker's only one). */
export function connectionField(settings: { connection?: string }): { connection?: string } {
  return settings.connection ? { connection: settings.connection } : {};
}

const MAX_NOTES = 30;

/** Remarks for the summary; a long sync keeps the first ones, so the history stays small. */
export function addNote(summary: StreamSummary, note: string): void {
  if (summary.notes.length < MAX_NOTES) summary.notes.push(note);
  else if (summary.notes.length === MAX_NOTES) summary.notes.push('(more remarks omitted)');
}

export function countWritten(
  summary: StreamSummary,
  records: number,
  partitions: number,
  bytes: number,
): void {
  summary.records += records;
  summary.partitions += partitions;
  summary.bytes += bytes;
}

export function applicationCause(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return error.cause;
  return error instanceof ApplicationFailure ? error : undefined;
}

/** Failures whose message we wrote to be read: the chain is not followed past them. */
const WRITTEN_TO_BE_READ = new Set<string>([
  ...Object.values(FailureType),
  'StreamFailed',
  'SyncNotStarted',
  'SyncStreamsFailed',
  'InvalidState',
]);

/**
 * What actually went wrong: the first of our own failures in the chain, else the innermost message,
 * without the retry plan at its end (it no longer applies once the failure is final).
 */
export function rootMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown; type?: string } | undefined;
  while (current?.cause && (current.cause as { message?: string }).message) {
    if (current instanceof ApplicationFailure && WRITTEN_TO_BE_READ.has(current.type ?? '')) break;
    current = current.cause as typeof current;
  }
  return (current?.message ?? String(error)).replace(/;\s*retrying( with backoff)?$/, '');
}
