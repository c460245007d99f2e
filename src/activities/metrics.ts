// Our own worker metrics, beside the SDK's, on the worker's Prometheus endpoint (--metrics-port): what
// each activity wrote, how export windows ended, and the failures Temporal retries, by cause.
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

function meter() {
  return Context.current().metricMeter;
}

/** Records and bytes an activity wrote for a stream. */
export function countWritten(connection: string, stream: string, records: number, bytes: number): void {
  const tags = { connection, stream };
  meter()
    .createCounter('amplitude_sync_records_written', 'records', 'records written, per stream')
    .add(records, tags);
  meter()
    .createCounter('amplitude_sync_bytes_written', 'bytes', 'bytes written, per stream')
    .add(bytes, tags);
}

/** An export window's outcome: complete, not_found (404), or failed. */
export function countExportWindow(connection: string, outcome: string): void {
  meter()
    .createCounter('amplitude_sync_export_windows', 'windows', 'export windows, by outcome')
    .add(1, { connection, outcome });
}

/** A failed attempt: retried by Temporal unless it is final; the cause is the failure's type. */
export function countFailure(connection: string, stream: string, error: unknown): void {
  const final = error instanceof ApplicationFailure && error.nonRetryable;
  const cause =
    error instanceof ApplicationFailure ? (error.type ?? 'unknown') : (error as Error).name || 'Error';
  meter()
    .createCounter(
      final ? 'amplitude_sync_failures' : 'amplitude_sync_retries',
      'attempts',
      final
        ? 'activity attempts that failed for good, by cause'
        : 'activity attempts Temporal retries, by cause',
    )
    .add(1, { connection, stream, cause });
}
