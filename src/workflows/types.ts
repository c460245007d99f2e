// What the workflows take and return. Everything here travels through Temporal's history, so it holds
// no credentials and stays small.
import type { StreamName } from '../amplitude/streams.ts';
import type { DestinationSpec } from '../destination/spec.ts';
import type { RecheckEntry, RecheckReport } from './recheck.ts';

/** A connection's non-secret settings, as the sync workflow receives them. */
export interface SyncSettings {
  /** The worker-side connection whose credentials the activities use; unset: the worker's only one. */
  connection?: string;
  streams: StreamName[];
  /** start_date as configured (RFC 3339). */
  startDate: string;
  requestTimeRangeHours: number;
  activeUsersGroupByCountry: boolean;
  exportAvailabilityLagHours: number;
  exportLookbackHours: number;
  /** Days an hour Amplitude answered 404 for stays on the re-check list (export_recheck_days). */
  exportRecheckDays?: number;
  projectTimezone: string;
  /** Where the data goes (earlier versions: the local root's absolute path). */
  destination: string | DestinationSpec;
  /**
   * false: no count reconciliation at the end (for `read`, whose scratch destination holds only what
   * this sync wrote, so every earlier hour would look missing). Unset: reconcile.
   */
  reconcile?: boolean;
  tuning?: Partial<Tuning>;
}

/** Operational knobs with production defaults; tests shrink them. */
export interface Tuning {
  /** Export windows downloading at once per sync. */
  exportConcurrency: number;
  /** Dashboard slices in flight per stream (the worker's client also caps all Dashboard calls at 5). */
  dashboardConcurrency: number;
  exportHeartbeatTimeoutMs: number;
  /** Wait before a 404 is asked once more within a sync; then its hours go on the re-check list. */
  notFoundRetryDelayMs: number;
  /** A one-hour window Amplitude times out on (504) is asked this many times in all. */
  hourTimeoutAttempts: number;
  /** First wait after a one-hour timeout; it doubles with each further one. */
  hourTimeoutRetryMs: number;
  /** Days before the dashboard watermark read again (Amplitude revises recent days as late events land). */
  dashboardLookbackDays: number;
  /** Attempts for transient failures (429, 5xx, resets, bad bodies) before a slice fails the stream. */
  maximumAttempts: number;
  /** First wait before a retry; it doubles up to 5 minutes (a Retry-After from Amplitude wins). */
  retryInitialIntervalMs: number;
  /** Continue-as-new after this many history events even if the server has not suggested it yet. */
  continueAsNewAfterEvents?: number;
}

export const DEFAULT_TUNING: Tuning = {
  exportConcurrency: 2,
  dashboardConcurrency: 2,
  exportHeartbeatTimeoutMs: 60_000,
  notFoundRetryDelayMs: 3_000,
  // 15 s, 30 s, 1 min, 2 min, 4 min: six asks over about eight minutes.
  hourTimeoutAttempts: 6,
  hourTimeoutRetryMs: 15_000,
  dashboardLookbackDays: 3,
  maximumAttempts: 12,
  retryInitialIntervalMs: 2000,
};

/** Per stream: everything before `completeBefore` is in the destination (an instant for events, a date for dashboards). */
export interface StreamState {
  completeBefore: string;
  /** events: hours Amplitude answered 404 for, asked again by every sync until served or expired. */
  recheck?: RecheckEntry[];
}

export interface SyncState {
  streams: Partial<Record<StreamName, StreamState>>;
}

/** The internal input (earlier versions, the CLI): resolved settings. A person starts with a SyncRequest. */
export interface SyncInput {
  settings: SyncSettings;
  /** Explicit state wins over the previous run's result. */
  state?: SyncState;
  /**
   * For scheduled runs: where to start when no earlier run of the schedule got further (the
   * connection's state when the schedule was created).
   */
  initialState?: SyncState;
  /** Ignore every earlier state and read from start_date. */
  fullRefresh?: boolean;
}

export interface StreamSummary {
  stream: StreamName;
  status: 'complete' | 'incomplete' | 'failed' | 'cancelled';
  completeBefore?: string;
  records: number;
  partitions: number;
  bytes: number;
  slices: number;
  /** Export windows split because Amplitude could not serve them whole. */
  splits: number;
  /** Human-readable remarks: empty windows, missing days, the failure. */
  notes: string[];
  /** events: the re-check list after this sync, and what it found. */
  recheck?: RecheckReport;
}

export interface SyncResult {
  state: SyncState;
  streams: Partial<Record<StreamName, StreamSummary>>;
  manifest: string;
  /** The count reconciliation against Amplitude's daily totals (ReconcileResult), or why it could not run. */
  reconciliation?: unknown;
}

export interface StreamInput {
  stream: StreamName;
  settings: SyncSettings;
  runKey: string;
  /** This stream's state at the start of the sync. */
  state?: StreamState;
  /** Set by continue-as-new: where the previous run of this stream workflow stopped. */
  carried?: CarriedProgress;
}

/** What a stream workflow hands to its next run when it continues as new. */
export interface CarriedProgress {
  /** The instant the sync planned against (fixed for the whole sync). */
  plannedAt: number;
  /** Spans still to run, as merged [start, end) epoch ms pairs (cut into slices again). */
  pending: Array<[number, number]>;
  /** Completed slices, merged. */
  completed: Array<[number, number]>;
  /** Start of the range this sync covers (the watermark moves from here). */
  rangeStart: number;
  summary: StreamSummary;
}
