// `amplitude-sync status`: where each connection stands, read from Temporal alone (no local state): the
// running sync and its streams' progress (queries), the last completed and the last failed sync, each
// stream's watermark, and the schedules with their next run.
import { type Client, type WorkflowExecutionInfo, WorkflowFailedError } from '@temporalio/client';
import type { StreamName } from './amplitude/streams.ts';
import { streamsProgress } from './sync-progress.ts';
import { carriedState, failureDetailsState } from './workflows/state.ts';
import type { StreamProgress } from './workflows/stream.ts';
import type { StreamSummary, SyncInput, SyncResult, SyncState } from './workflows/types.ts';

/** How many of the newest syncs are looked at. */
const RECENT_SYNCS = 200;

interface SyncRun {
  connection: string;
  info: WorkflowExecutionInfo;
}

export interface ConnectionStatus {
  connection: string;
  running?: { workflowId: string; startedAt: Date; streams: Array<{ stream: string; line: string }> };
  lastCompleted?: { workflowId: string; closedAt?: Date; records: number };
  lastFailed?: { workflowId: string; closedAt?: Date; error: string };
  watermarks: Partial<Record<StreamName, string>>;
  schedules: Array<{ id: string; next?: Date; paused: boolean }>;
}

function connectionOf(info: WorkflowExecutionInfo): string {
  const memo = info.memo?.connection;
  return typeof memo === 'string' ? memo : info.workflowId;
}

async function recentSyncs(client: Client): Promise<SyncRun[]> {
  const runs: SyncRun[] = [];
  for await (const info of client.workflow.list({ query: "WorkflowType = 'sync'" })) {
    runs.push({ connection: connectionOf(info), info });
    if (runs.length >= RECENT_SYNCS) break;
  }
  return runs;
}

function streamLine(progress: StreamProgress | StreamSummary | undefined): string {
  if (!progress) return 'starting';
  const pending = 'slicesPending' in progress ? `, ${progress.slicesPending} pending` : '';
  const watermark = 'watermark' in progress && progress.watermark ? `, watermark ${progress.watermark}` : '';
  return `${progress.status}: ${progress.slices} slices done${pending}, ${progress.records} records${watermark}`;
}

async function runningStreams(client: Client, workflowId: string) {
  const progress = await streamsProgress(client, workflowId);
  return [...progress].map(([stream, live]) => ({ stream, line: streamLine(live) }));
}

/** The state a closed sync left: its result, or what its failure carries. */
async function stateOf(client: Client, workflowId: string, runId: string): Promise<SyncState | undefined> {
  try {
    return carriedState(await client.workflow.getHandle(workflowId, runId).result());
  } catch (error) {
    return error instanceof WorkflowFailedError ? failureDetailsState(error.cause) : undefined;
  }
}

function failureMessage(error: unknown): string {
  let message = (error as Error).message;
  let cause = (error as { cause?: unknown }).cause;
  while (cause) {
    message = (cause as Error).message || message;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message;
}

export async function connectionStatuses(client: Client, only?: string): Promise<ConnectionStatus[]> {
  const byConnection = new Map<string, SyncRun[]>();
  for (const run of await recentSyncs(client)) {
    if (only && run.connection !== only) continue;
    byConnection.set(run.connection, [...(byConnection.get(run.connection) ?? []), run]);
  }
  const schedules: Array<{ id: string; connection?: string; next?: Date; paused: boolean }> = [];
  for await (const schedule of client.schedule.list()) {
    const description = await client.schedule.getHandle(schedule.scheduleId).describe();
    const input = description.action.type === 'startWorkflow' ? description.action.args?.[0] : undefined;
    const named = (input as { connection?: unknown } | undefined)?.connection;
    const legacy = (input as SyncInput | undefined)?.settings ? schedule.scheduleId : undefined;
    schedules.push({
      id: schedule.scheduleId,
      ...(typeof named === 'string' ? { connection: named } : legacy ? { connection: legacy } : {}),
      ...(description.info.nextActionTimes[0] ? { next: description.info.nextActionTimes[0] } : {}),
      paused: description.state.paused,
    });
  }
  for (const schedule of schedules) {
    const connection = schedule.connection ?? schedule.id;
    if (only && connection !== only) continue;
    if (!byConnection.has(connection)) byConnection.set(connection, []);
  }

  const statuses: ConnectionStatus[] = [];
  for (const [connection, runs] of byConnection) {
    const status: ConnectionStatus = {
      connection,
      watermarks: {},
      schedules: schedules
        .filter((schedule) => (schedule.connection ?? schedule.id) === connection)
        .map(({ id, next, paused }) => ({ id, paused, ...(next ? { next } : {}) })),
    };
    const running = runs.find((run) => run.info.status.name === 'RUNNING');
    if (running) {
      status.running = {
        workflowId: running.info.workflowId,
        startedAt: running.info.startTime,
        streams: await runningStreams(client, running.info.workflowId),
      };
    }
    const completed = runs.find((run) => run.info.status.name === 'COMPLETED');
    if (completed) {
      const result = (await client.workflow
        .getHandle(completed.info.workflowId, completed.info.runId)
        .result()) as SyncResult;
      status.lastCompleted = {
        workflowId: completed.info.workflowId,
        ...(completed.info.closeTime ? { closedAt: completed.info.closeTime } : {}),
        records: Object.values(result.streams).reduce((sum, summary) => sum + (summary?.records ?? 0), 0),
      };
    }
    const failed = runs.find((run) => ['FAILED', 'TIMED_OUT', 'TERMINATED'].includes(run.info.status.name));
    if (failed) {
      const error = await client.workflow
        .getHandle(failed.info.workflowId, failed.info.runId)
        .result()
        .then(
          () => 'unknown',
          (reason: unknown) => failureMessage(reason),
        );
      status.lastFailed = {
        workflowId: failed.info.workflowId,
        ...(failed.info.closeTime ? { closedAt: failed.info.closeTime } : {}),
        error,
      };
    }
    // The newest closed sync that left a state holds the watermarks.
    for (const run of runs.filter((run) => run.info.status.name !== 'RUNNING')) {
      const state = await stateOf(client, run.info.workflowId, run.info.runId);
      if (!state) continue;
      for (const [stream, streamState] of Object.entries(state.streams)) {
        if (streamState) status.watermarks[stream as StreamName] = streamState.completeBefore;
      }
      break;
    }
    statuses.push(status);
  }
  return statuses.sort((a, b) => a.connection.localeCompare(b.connection));
}

const when = (date: Date | undefined) => (date ? date.toISOString().replace('.000Z', 'Z') : '?');

export function formatStatuses(statuses: ConnectionStatus[]): string {
  if (statuses.length === 0) return 'no syncs and no schedules on this Temporal namespace';
  const lines: string[] = [];
  for (const status of statuses) {
    lines.push(status.connection);
    if (status.running) {
      lines.push(`  running    ${status.running.workflowId}, since ${when(status.running.startedAt)}`);
      for (const { stream, line } of status.running.streams) lines.push(`    ${stream}: ${line}`);
    } else {
      lines.push('  running    none');
    }
    lines.push(
      status.lastCompleted
        ? `  completed  ${status.lastCompleted.workflowId} at ${when(status.lastCompleted.closedAt)}: ${status.lastCompleted.records} records`
        : '  completed  none yet',
    );
    if (status.lastFailed) {
      lines.push(
        `  failed     ${status.lastFailed.workflowId} at ${when(status.lastFailed.closedAt)}: ${status.lastFailed.error}`,
      );
    }
    const watermarks = Object.entries(status.watermarks);
    lines.push(
      watermarks.length > 0
        ? `  watermarks ${watermarks.map(([stream, mark]) => `${stream} ${mark}`).join(', ')}`
        : '  watermarks none (the next sync starts at start_date)',
    );
    for (const schedule of status.schedules) {
      lines.push(
        `  schedule   ${schedule.id}${schedule.paused ? ' (paused)' : ''}, next run ${when(schedule.next)}`,
      );
    }
  }
  return lines.join('\n');
}
