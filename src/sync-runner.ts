// Starting a sync from outside Temporal (command line, tests): the workflow ID names the connection,
// the state comes from the connection's previous runs in Temporal unless given, and the outcome is
// printed per stream.
import {
  type Client,
  ScheduleNotFoundError,
  ServiceError,
  WorkflowFailedError,
  type WorkflowHandle,
} from '@temporalio/client';
import {
  ApplicationFailure,
  CancelledFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/common';
import type { ReconcileResult } from './activities/reconcile.ts';
import { isoInstant } from './amplitude/time.ts';
import { describeDestination } from './destination/spec.ts';
import { showProgress } from './progress-display.ts';
import { watchRetries } from './retry-watch.ts';
import { DEFAULT_TASK_QUEUE } from './task-queue.ts';
import { type RecheckEntry, unionRecheck } from './workflows/recheck.ts';
import { carriedState, failureDetailsState, furthest } from './workflows/state.ts';
import type { SyncInput, SyncResult, SyncSettings, SyncState } from './workflows/types.ts';
import type { VerifyResult } from './workflows/verify.ts';

export class SyncFailedError extends Error {
  override name = 'SyncFailedError';
  constructor(
    message: string,
    readonly partial?: SyncResult,
    /** The type of the failure at the root of the chain (an ApplicationFailure's), e.g. AmplitudeAuthFailed. */
    readonly failureType?: string,
  ) {
    super(message);
  }
}

/** The type of the innermost ApplicationFailure in a failure's chain of causes. */
function rootFailureType(error: unknown): string | undefined {
  let type: string | undefined;
  for (let current = error as { type?: unknown; cause?: unknown } | undefined; current; ) {
    if (current instanceof ApplicationFailure && typeof current.type === 'string') type = current.type;
    current = current.cause as typeof current;
  }
  return type;
}

async function stateOfRun(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<SyncState | undefined> {
  const handle = client.workflow.getHandle(workflowId, runId);
  try {
    return carriedState(await handle.result());
  } catch (error) {
    if (!(error instanceof WorkflowFailedError)) return undefined;
    if (error.cause instanceof CancelledFailure) {
      // A cancelled run keeps its progress in its memo (a cancellation carries no details).
      return carriedState((await handle.describe()).memo);
    }
    return failureDetailsState(error.cause);
  }
}

/**
 * The state the connection's syncs reached: the furthest of its last finished manual sync (a completed
 * run's result, or the progress a failed run kept in its failure; when the latest run ended without
 * either, the earlier runs are searched) and the newest finished run of its schedule, if it has one.
 */
export async function previousState(client: Client, workflowId: string): Promise<SyncState | undefined> {
  const [manual, scheduled] = await bothInOrder(
    manualRunsState(client, workflowId),
    scheduledRunsState(client, workflowId),
  );
  const state = manual || scheduled ? furthest(manual, scheduled) : undefined;
  const events = state?.streams.events;
  const verified = events ? await verifiedRecheck(client, workflowId) : undefined;
  if (!state || !events || !verified) return state;
  return {
    streams: { ...state.streams, events: { ...events, recheck: unionRecheck(events.recheck, verified) } },
  };
}

/**
 * The hours `amplitude-sync verify` found without any exported event while Amplitude counts some,
 * when it ran after the connection's last sync began (later syncs have them in their state already).
 */
async function verifiedRecheck(client: Client, workflowId: string): Promise<RecheckEntry[] | undefined> {
  try {
    const verify = await client.workflow.getHandle(`${workflowId}-verify`).describe();
    if (verify.status.name !== 'COMPLETED' || !verify.closeTime) return undefined;
    const lastSync = await client.workflow
      .getHandle(workflowId)
      .describe()
      .catch(() => undefined);
    if (lastSync && lastSync.startTime > verify.closeTime) return undefined;
    const result = (await client.workflow
      .getHandle(`${workflowId}-verify`, verify.runId)
      .result()) as VerifyResult;
    return result.recheck.length > 0 ? result.recheck : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Two independent reads of the cluster at once (one round trip instead of two, which a remote cluster
 * makes worth having); a failure is thrown as if they had run one after the other: the first's first.
 */
async function bothInOrder<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'rejected') throw a.reason;
  if (b.status === 'rejected') throw b.reason;
  return [a.value, b.value];
}

const quoted = (value: string) => `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;

async function manualRunsState(client: Client, workflowId: string): Promise<SyncState | undefined> {
  let latest: Awaited<ReturnType<WorkflowHandle['describe']>>;
  try {
    latest = await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
  if (latest.status.name === 'RUNNING') {
    throw new SyncFailedError(
      `a sync of this connection (${workflowId}) is already running; wait for it or cancel it in the Temporal UI`,
    );
  }
  const state = await stateOfRun(client, workflowId, latest.runId);
  if (state) return state;
  const earlier: SyncState[] = [];
  for await (const execution of client.workflow.list({ query: `WorkflowId = ${quoted(workflowId)}` })) {
    if (!['COMPLETED', 'FAILED', 'CANCELLED'].includes(execution.status.name)) continue;
    const found = await stateOfRun(client, workflowId, execution.runId);
    if (found) earlier.push(found);
  }
  return earlier.length > 0 ? furthest(...earlier) : undefined;
}

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_UNIMPLEMENTED = 12;

function grpcCode(error: unknown): unknown {
  return error instanceof ServiceError ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
}

/** Runs a Temporal Schedule started are listed newest first; the first finished one with a state wins. */
async function scheduledRunsState(client: Client, scheduleId: string): Promise<SyncState | undefined> {
  try {
    for await (const execution of client.workflow.list({
      query: `TemporalScheduledById = ${quoted(scheduleId)} AND WorkflowType = 'sync'`,
    })) {
      if (execution.status.name !== 'COMPLETED' && execution.status.name !== 'FAILED') continue;
      const found = await stateOfRun(client, execution.workflowId, execution.runId);
      if (found) return found;
    }
  } catch (error) {
    // The time-skipping test server cannot list workflows at all: it has no scheduled runs.
    if (grpcCode(error) === GRPC_UNIMPLEMENTED) return undefined;
    if (grpcCode(error) === GRPC_INVALID_ARGUMENT) {
      console.warn(
        `cannot list the runs of schedule ${scheduleId} (${(error as Error).message}): this sync continues from the connection's own runs and may read again what the schedule synced`,
      );
      return undefined;
    }
    throw error;
  }
  return undefined;
}

/** A connection that runs on a schedule is synced by the schedule only, so that two syncs never race. */
async function refuseIfScheduled(client: Client, workflowId: string): Promise<void> {
  try {
    await client.schedule.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError || grpcCode(error) === GRPC_UNIMPLEMENTED) return;
    if (!(error instanceof ServiceError)) throw error;
    // Schedules denied to this client (or otherwise unreadable) must not stop a sync.
    console.warn(`cannot tell whether ${workflowId} runs on a schedule (${error.message}); syncing anyway`);
    return;
  }
  throw new SyncFailedError(
    `connection ${workflowId} runs on a Temporal Schedule of the same ID; trigger a run there instead (Temporal UI, Schedules, Trigger with overlap policy Skip), or delete the schedule first (amplitude-sync schedule --delete)`,
  );
}

export interface RunSyncOptions {
  client: Client;
  workflowId: string;
  settings: SyncSettings;
  taskQueue?: string;
  /** Explicit state; otherwise the connection's previous runs decide (unless fullRefresh). */
  state?: SyncState;
  fullRefresh?: boolean;
  onStarted?(runId: string): void;
  /** A sync of the connection was already running (its command was interrupted): this one follows it. */
  onAttached?(runId: string, startedAt: Date): void;
  /** One line per retry Temporal has scheduled, while the sync runs. */
  onRetry?(line: string): void;
  /** A terminal: a live display per stream (progress-display.ts) instead of the retry lines. */
  progressTo?: NodeJS.WriteStream;
  /** Aborting it cancels the sync; runSync then rejects with SyncCancelledError once it has stopped. */
  signal?: AbortSignal;
}

export class SyncCancelledError extends Error {
  override name = 'SyncCancelledError';
}

/** The connection's sync that is running now, if any. */
async function runningSync(client: Client, workflowId: string) {
  try {
    const described = await client.workflow.getHandle(workflowId).describe();
    return described.status.name === 'RUNNING' ? described : undefined;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return undefined;
    throw error;
  }
}

/**
 * Starts the connection's sync and waits for it. A sync of the connection that is already running
 * (left by an interrupted command: the history is the state) is followed instead of started again;
 * the workers, this command's own included, finish it.
 */
export async function runSync(options: RunSyncOptions): Promise<SyncResult> {
  const { client, workflowId } = options;
  if (options.signal?.aborted) throw new SyncCancelledError('cancelled before the sync started');
  const [, running] = await bothInOrder(
    refuseIfScheduled(client, workflowId),
    runningSync(client, workflowId),
  );
  if (running) {
    options.onAttached?.(running.runId, running.startTime);
    try {
      return await follow(options, client.workflow.getHandle(workflowId, running.runId));
    } catch (error) {
      // The interrupted command had asked it to stop: now do what this command was asked to do.
      if (!(error instanceof SyncCancelledError) || options.signal?.aborted) throw error;
    }
  }
  return follow(options, await start(options));
}

async function start(options: RunSyncOptions): Promise<WorkflowHandle> {
  const { client, workflowId, settings } = options;
  const state = options.fullRefresh
    ? undefined
    : (options.state ?? (await previousState(client, workflowId)));
  const input: SyncInput = {
    settings,
    ...(state ? { state } : {}),
    ...(options.fullRefresh ? { fullRefresh: true } : {}),
  };
  try {
    const handle = await client.workflow.start('sync', {
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId,
      args: [input],
      staticSummary: `Amplitude sync of ${settings.streams.join(', ')}`,
      staticDetails: [
        `Destination: \`${describeDestination(settings.destination)}\``,
        `Started from: ${state ? `\`${JSON.stringify(state.streams)}\`` : options.fullRefresh ? 'full refresh' : 'start_date'}`,
        `start_date ${settings.startDate}, request_time_range ${settings.requestTimeRangeHours} h`,
      ].join('\n\n'),
    });
    options.onStarted?.(handle.firstExecutionRunId);
    return handle;
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    // Started by someone else a moment ago: follow it.
    const described = await client.workflow.getHandle(workflowId).describe();
    options.onAttached?.(described.runId, described.startTime);
    return client.workflow.getHandle(workflowId, described.runId);
  }
}

/** Waits for a run, reporting its retries; the abort signal cancels it. */
async function follow(options: RunSyncOptions, handle: WorkflowHandle): Promise<SyncResult> {
  const { client, workflowId, settings } = options;
  const watcher = options.progressTo
    ? showProgress(client, workflowId, settings.streams, options.progressTo)
    : options.onRetry
      ? watchRetries(
          client,
          [workflowId, ...settings.streams.map((stream) => `${workflowId}/${stream}`)],
          options.onRetry,
        )
      : undefined;
  const cancel = () => void handle.cancel().catch(() => {});
  options.signal?.addEventListener('abort', cancel, { once: true });
  try {
    return (await handle.result()) as SyncResult;
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      if (error.cause instanceof CancelledFailure) {
        throw new SyncCancelledError(
          `the sync ${workflowId} was cancelled; the hours it had committed stay in place, and the next sync continues from its state`,
        );
      }
      const details = (error.cause as { details?: unknown[] } | undefined)?.details;
      throw new SyncFailedError(
        error.cause?.message ?? error.message,
        details?.[0] as SyncResult | undefined,
        rootFailureType(error),
      );
    }
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', cancel);
    await watcher?.stop();
  }
}

export function formatSummary(result: SyncResult): string {
  const rows = Object.values(result.streams).map((summary) => {
    const cursor = summary.completeBefore ? `complete before ${summary.completeBefore}` : '';
    const recheck = summary.recheck;
    const listed = recheck?.pending.length
      ? `\n    ${recheck.pending.length} range(s) of hours answered 404 are on the re-check list: ${recheck.pending.map((entry) => `${entry.start}/${entry.end}`).join(', ')}`
      : '';
    const recovered = recheck?.recovered.length
      ? `\n    recovered late: ${recheck.recovered.join(', ')}`
      : '';
    const notes = summary.notes.length > 0 ? `\n    ${summary.notes.slice(-5).join('\n    ')}` : '';
    return `  ${summary.stream.padEnd(24)} ${summary.status.padEnd(10)} ${String(summary.records).padStart(10)} records ${String(summary.partitions).padStart(6)} partitions  ${cursor}${listed}${recovered}${notes}`;
  });
  return [
    ...rows,
    ...reconciliationLines(result.reconciliation),
    ...(result.manifest ? [`  manifest: ${result.manifest}`] : []),
    `  at ${isoInstant(Date.now())}`,
  ].join('\n');
}

function reconciliationLines(value: unknown): string[] {
  if (!value || typeof value !== 'object') return [];
  if ('error' in value) return [`  count reconciliation not done: ${(value as { error: string }).error}`];
  const result = value as ReconcileResult;
  if (!result.from) return [];
  const differing = result.differing
    .map((day) => `${day.date} (${day.exported} of ${day.amplitude})`)
    .join(', ');
  return [
    `  counts against Amplitude's daily totals, ${result.from}..${result.to}: ${result.matching} day(s) within tolerance${differing ? `; differing: ${differing} (the manifest has the hours)` : ''}`,
  ];
}
