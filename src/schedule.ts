// A Temporal Schedule that syncs one connection at an interval. Each run starts where the previous one
// ended: Temporal hands a scheduled run the previous run's result (or failure) as lastResult.
import {
  type Client,
  ScheduleAlreadyRunning,
  type ScheduleDescription,
  ScheduleNotFoundError,
  type ScheduleOptionsAction,
  ScheduleOverlapPolicy,
} from '@temporalio/client';
import { describeDestination, destinationSpec } from './destination/spec.ts';
import { furthest, stateProblems } from './workflows/state.ts';
import type { SyncInput, SyncSettings, SyncState } from './workflows/types.ts';

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

export interface SyncScheduleOptions {
  client: Client;
  /** Names the connection; scheduled runs get workflow IDs `<scheduleId>-<time of the action>`. */
  scheduleId: string;
  taskQueue: string;
  settings: SyncSettings;
  everyMs: number;
  /** Where the first scheduled run starts (typically the state the connection's manual syncs reached). */
  initialState?: SyncState;
}

const MINUTE_MS = 60_000;

/** `30m`, `1h`, `1d` style intervals, at least one minute. */
export function parseInterval(text: string): number | undefined {
  const match = /^(\d+)\s*(m|min|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  const unit = { m: MINUTE_MS, min: MINUTE_MS, h: 60 * MINUTE_MS, d: 24 * 60 * MINUTE_MS }[match[2]!]!;
  const ms = Number(match[1]) * unit;
  return ms >= MINUTE_MS ? ms : undefined;
}

export function formatInterval(ms: number): string {
  if (ms % (24 * 60 * MINUTE_MS) === 0) return `${ms / (24 * 60 * MINUTE_MS)}d`;
  if (ms % (60 * MINUTE_MS) === 0) return `${ms / (60 * MINUTE_MS)}h`;
  return `${ms / MINUTE_MS}m`;
}

function syncAction(
  options: SyncScheduleOptions,
  initialState: SyncState | undefined,
): ScheduleOptionsAction {
  const input: SyncInput = { settings: options.settings, ...(initialState ? { initialState } : {}) };
  return {
    type: 'startWorkflow',
    workflowType: 'sync',
    workflowId: options.scheduleId,
    taskQueue: options.taskQueue,
    args: [input],
    staticSummary: `Scheduled Amplitude sync of ${options.settings.streams.join(', ')}`,
  };
}

function note(options: SyncScheduleOptions): string {
  return `Syncs ${options.settings.streams.join(', ')} into ${describeDestination(options.settings.destination)} every ${formatInterval(options.everyMs)}; each run starts where the previous one ended.`;
}

function refuseUnusable(state: SyncState | undefined, scheduleId: string): void {
  const problems = state ? stateProblems(state) : [];
  if (problems.length > 0) {
    throw new ScheduleError(
      `the state schedule ${scheduleId} would start from is unusable: ${problems.join('; ')}`,
    );
  }
}

/**
 * Creates the schedule, or updates its interval and settings if it exists (keeping the result of its
 * last run, so the next run stays incremental).
 *
 * Overlap policy SKIP: a run due while the previous one is still going is skipped, so scheduled syncs
 * of a connection never race. The catch-up window of one interval: after the Temporal server itself
 * was down, at most the missed runs of one interval are taken, not one per missed interval.
 */
export async function upsertSyncSchedule(options: SyncScheduleOptions): Promise<'created' | 'updated'> {
  refuseUnusable(options.initialState, options.scheduleId);
  const spec = { intervals: [{ every: options.everyMs }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: options.everyMs };
  try {
    await options.client.schedule.create({
      scheduleId: options.scheduleId,
      spec,
      action: syncAction(options, options.initialState),
      policies,
      state: { note: note(options) },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await options.client.schedule.getHandle(options.scheduleId).update((previous: ScheduleDescription) => {
    const previousInput = previous.action.args?.[0] as SyncInput | undefined;
    const previousDestination = previousInput?.settings.destination;
    const destination = options.settings.destination;
    if (
      previousDestination !== undefined &&
      JSON.stringify(destinationSpec(previousDestination)) !== JSON.stringify(destinationSpec(destination))
    ) {
      // Its runs continue from where the old destination got: the new one would miss everything before.
      throw new ScheduleError(
        `schedule ${options.scheduleId} writes to ${describeDestination(previousDestination)}; to sync into ${describeDestination(destination)}, delete it (schedule --delete) and create it again, or give another --id`,
      );
    }
    const initialState = furthest(previousInput?.initialState, options.initialState);
    return {
      ...previous,
      spec,
      action: syncAction(options, Object.keys(initialState.streams).length > 0 ? initialState : undefined),
      policies: { ...previous.policies, ...policies },
      state: { ...previous.state, note: note(options) },
    };
  });
  return 'updated';
}

export async function deleteSyncSchedule(client: Client, scheduleId: string): Promise<void> {
  try {
    await client.schedule.getHandle(scheduleId).delete();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw new ScheduleError(
        `there is no schedule ${scheduleId} to delete. Schedule IDs come from the config file and the output directory: give the same --out (or --id) as when it was created; \`temporal schedule list\` shows them.`,
      );
    }
    throw error;
  }
}

export interface ConnectionScheduleOptions {
  client: Client;
  /** The connection as the workers know it: each run is started with {"connection": name}. */
  connection: string;
  taskQueue: string;
  everyMs: number;
  streams?: string[];
}

/** The schedule of a connection started by name: `amplitude-sync-<name>`. */
export function connectionScheduleId(connection: string): string {
  return `amplitude-sync-${connection}`;
}

/**
 * A schedule whose runs start the sync with {"connection": name}, as the Temporal UI does: the workers
 * resolve the settings, and each run continues from the connection's newest manifest (so a run started
 * by hand in between counts too). Overlap SKIP and a catch-up window of one interval, as above.
 */
export async function upsertConnectionSchedule(
  options: ConnectionScheduleOptions,
): Promise<'created' | 'updated'> {
  const scheduleId = connectionScheduleId(options.connection);
  const spec = { intervals: [{ every: options.everyMs }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: options.everyMs };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'sync',
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [{ connection: options.connection, ...(options.streams ? { streams: options.streams } : {}) }],
    staticSummary: `Scheduled Amplitude sync of connection ${options.connection}`,
  };
  const note = `Syncs connection ${options.connection} every ${formatInterval(options.everyMs)}; each run starts where the connection's last sync ended.`;
  try {
    await options.client.schedule.create({ scheduleId, spec, action, policies, state: { note } });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
  }
  await options.client.schedule.getHandle(scheduleId).update((previous: ScheduleDescription) => ({
    ...previous,
    spec,
    action,
    policies: { ...previous.policies, ...policies },
    state: { ...previous.state, note },
  }));
  return 'updated';
}
