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
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/common';
import { isoInstant } from './amplitude/time.ts';
import { DEFAULT_TASK_QUEUE } from './worker.ts';
import { carriedState, failureDetailsState, furthest } from './workflows/state.ts';
import type { SyncInput, SyncResult, SyncSettings, SyncState } from './workflows/types.ts';

export class SyncFailedError extends Error {
  override name = 'SyncFailedError';
  constructor(
    message: string,
    readonly partial?: SyncResult,
  ) {
    super(message);
  }
}

async function stateOfRun(
  client: Client,
  workflowId: string,
  runId?: string,
): Promise<SyncState | undefined> {
  try {
    return carriedState(await client.workflow.getHandle(workflowId, runId).result());
  } catch (error) {
    return error instanceof WorkflowFailedError ? failureDetailsState(error.cause) : undefined;
  }
}

/**
 * The state the connection's syncs reached: the furthest of its last finished manual sync (a completed
 * run's result, or the progress a failed run kept in its failure; when the latest run ended without
 * either, the earlier runs are searched) and the newest finished run of its schedule, if it has one.
 */
export async function previousState(client: Client, workflowId: string): Promise<SyncState | undefined> {
  const manual = await manualRunsState(client, workflowId);
  const scheduled = await scheduledRunsState(client, workflowId);
  return manual || scheduled ? furthest(manual, scheduled) : undefined;
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
    if (execution.status.name !== 'COMPLETED' && execution.status.name !== 'FAILED') continue;
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
}

export async function runSync(options: RunSyncOptions): Promise<SyncResult> {
  const { client, workflowId, settings } = options;
  await refuseIfScheduled(client, workflowId);
  const state = options.fullRefresh
    ? undefined
    : (options.state ?? (await previousState(client, workflowId)));
  const input: SyncInput = {
    settings,
    ...(state ? { state } : {}),
    ...(options.fullRefresh ? { fullRefresh: true } : {}),
  };
  let handle: Awaited<ReturnType<Client['workflow']['start']>>;
  try {
    handle = await client.workflow.start('sync', {
      taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
      workflowId,
      args: [input],
      staticSummary: `Amplitude sync of ${settings.streams.join(', ')}`,
      staticDetails: [
        `Destination: \`${settings.destination}\``,
        `Started from: ${state ? `\`${JSON.stringify(state.streams)}\`` : options.fullRefresh ? 'full refresh' : 'start_date'}`,
        `start_date ${settings.startDate}, request_time_range ${settings.requestTimeRangeHours} h`,
      ].join('\n\n'),
    });
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new SyncFailedError(
        `a sync of this connection (${workflowId}) is already running; wait for it or cancel it in the Temporal UI`,
      );
    }
    throw error;
  }
  options.onStarted?.(handle.firstExecutionRunId);
  try {
    return (await handle.result()) as SyncResult;
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const details = (error.cause as { details?: unknown[] } | undefined)?.details;
      throw new SyncFailedError(
        error.cause?.message ?? error.message,
        details?.[0] as SyncResult | undefined,
      );
    }
    throw error;
  }
}

export function formatSummary(result: SyncResult): string {
  const rows = Object.values(result.streams).map((summary) => {
    const cursor = summary.completeBefore ? `complete before ${summary.completeBefore}` : '';
    const notes = summary.notes.length > 0 ? `\n    ${summary.notes.slice(-5).join('\n    ')}` : '';
    return `  ${summary.stream.padEnd(24)} ${summary.status.padEnd(10)} ${String(summary.records).padStart(10)} records ${String(summary.partitions).padStart(6)} partitions  ${cursor}${notes}`;
  });
  return [...rows, `  manifest: ${result.manifest}`, `  at ${isoInstant(Date.now())}`].join('\n');
}
