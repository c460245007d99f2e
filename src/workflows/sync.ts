// A sync of one connection: checks that can fail before anything starts, one child workflow per stream
// (all awaited), then the count reconciliation, the removal of what interrupted syncs left, and the
// manifest. The result is the new state. Started by a person (the UI, a schedule) with a SyncRequest,
// `{"connection": "web-prod"}`: the settings are resolved on a worker that holds the connection and
// the state is the one its newest manifest recorded, both kept in the history.

import {
  defineSearchAttributeKey,
  SearchAttributeType,
  WorkflowExecutionAlreadyStartedError,
} from '@temporalio/common';
import {
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  ChildWorkflowFailure,
  defineQuery,
  executeChild,
  isCancellation,
  metricMeter,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ReconcileResult } from '../activities/reconcile.ts';
import { FailureType } from '../amplitude/errors.ts';
import { STREAMS, type StreamName } from '../amplitude/streams.ts';
import { DAY_MS, isoInstant, parseStartDate } from '../amplitude/time.ts';
import type { LeftoversRemoved } from '../destination/destination.ts';
import { fileSafe } from '../destination/layout.ts';
import { describeDestination } from '../destination/spec.ts';
import { connectionLock, LOCK_PREFIX } from './lock.ts';
import { applicationCause, connectionField } from './plans/common.ts';
import { DEFAULT_RECHECK_DAYS } from './plans/export.ts';
import { addReconciledHours } from './recheck.ts';
import { checkedSyncInput, parseSyncRequest, type SyncRequest } from './request.ts';
import { CONNECTION_ATTRIBUTE, STREAM_ATTRIBUTE } from './search-attributes.ts';
import { carriedState, startingState } from './state.ts';
import { rootMessage, streamSync } from './stream.ts';
import {
  DEFAULT_TUNING,
  type StreamSummary,
  type SyncInput,
  type SyncResult,
  type SyncSettings,
  type SyncState,
} from './types.ts';

export const syncProgressQuery =
  defineQuery<Partial<Record<StreamName, StreamSummary | 'running'>>>('progress');

/** Checks before anything starts, the leftovers of interrupted syncs, the count reconciliation. */
export const CHECKS_AND_RECONCILIATION = 'checks-and-reconciliation';
/** The connection in the memo of each sync. */
export const CONNECTION_MEMO = 'connection-memo';

const { writeManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
  summary: 'write the sync manifest',
});
// Before anything starts, a few quick tries: an unreachable Amplitude or a wrong key fails the sync in
// seconds, with a message that says so, instead of every stream retrying for many minutes.
const { checkConnection } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '4 seconds', maximumAttempts: 3 },
  summary: 'check that Amplitude answers and takes the keys',
});
const { prepareDestination, removeLeftovers } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3 },
  summary: 'destination: writable, leftovers of interrupted syncs removed',
});
const { resolveConnection, lastSyncState } = proxyActivities<Activities>({
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 10 },
  summary: "the connection's settings and last state",
});
const { reconcileCounts } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
  summary: "compare exported events per day with Amplitude's own daily totals",
});

const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

/** The summary a failed stream carries in its failure. */
function childSummary(error: unknown): StreamSummary | undefined {
  if (error instanceof ChildWorkflowFailure && error.cause instanceof ApplicationFailure) {
    return error.cause.details?.[0] as StreamSummary | undefined;
  }
  return undefined;
}

/** Fails the sync before anything starts when the destination cannot be written or Amplitude is out of reach. */
async function checkBeforeStart(
  settings: SyncSettings,
  runKey: string,
  previous: SyncState,
): Promise<LeftoversRemoved> {
  // The cause keeps the activity's failure type (AmplitudeAuthFailed...) for those who classify it.
  const fail = (message: string, cause?: unknown) =>
    ApplicationFailure.create({
      type: 'SyncNotStarted',
      nonRetryable: true,
      message: `${message} Nothing was synced; the state stays where it was.`,
      details: [{ state: previous, streams: {}, manifest: '' } satisfies SyncResult],
      ...(cause instanceof Error ? { cause } : {}),
    });
  let leftovers: LeftoversRemoved;
  try {
    leftovers = await prepareDestination({ runKey, destination: settings.destination });
  } catch (error) {
    if (isCancellation(error)) throw error;
    throw fail(rootMessage(error), error);
  }
  try {
    await checkConnection(connectionField(settings));
  } catch (error) {
    if (isCancellation(error)) throw error;
    const type = applicationCause(error)?.type;
    // Anything else (a check endpoint this project lacks, a passing 5xx) is left to the streams.
    if (type === FailureType.Unreachable) {
      throw fail(
        `Amplitude is out of reach: ${rootMessage(error)}. Check base_url (or data_region) and this machine's network.`,
        error,
      );
    }
    if (type === FailureType.AuthFailed) throw fail(rootMessage(error), error);
  }
  return leftovers;
}

/** The count reconciliation; days whose hours have no events while Amplitude counts some go back on the re-check list. */
async function reconcile(
  settings: SyncSettings,
  runKey: string,
  state: SyncState,
): Promise<ReconcileResult | { error: string } | undefined> {
  const events = state.streams.events;
  if (!events || !settings.streams.includes('events') || settings.reconcile === false) return undefined;
  const recheckDays = settings.exportRecheckDays ?? DEFAULT_RECHECK_DAYS;
  try {
    const result = await reconcileCounts({
      ...connectionField(settings),
      runKey,
      destination: settings.destination,
      days: recheckDays,
      before: events.completeBefore,
      startDate: settings.startDate,
      projectTimezone: settings.projectTimezone,
    });
    const recheck = addReconciledHours(events.recheck, result.differing, Date.now() + recheckDays * DAY_MS);
    if (recheck && recheck.length > 0) state.streams.events = { ...events, recheck };
    return result;
  } catch (error) {
    if (isCancellation(error)) throw error;
    return { error: rootMessage(error) };
  }
}

/** Starts the connection's lock (lock.ts); fails the sync, before anything is done, when another holds it. */
async function holdConnection(name: string): Promise<void> {
  const { workflowId } = workflowInfo();
  const lockId = `${LOCK_PREFIX}${name}`;
  try {
    const lock = await startChild(connectionLock, {
      workflowId: lockId,
      args: [workflowId],
      parentClosePolicy: ParentClosePolicy.TERMINATE,
      staticSummary: `held by the sync ${workflowId}: one sync of ${name} at a time`,
    });
    lock.result().catch(() => {}); // it ends when this sync does
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
    throw ApplicationFailure.create({
      type: 'SyncAlreadyRunning',
      nonRetryable: true,
      message: `Another sync of connection ${name} is running (it holds ${lockId}, whose parent is that sync): wait for it to end or cancel it, then start this one again. Nothing was synced.`,
    });
  }
}

/**
 * Amplitude allows a project 5 Dashboard requests at once. One sync of a connection runs at a time
 * (lock.ts), so the connection's requests are its streams': each snapshot makes one at a time, and the
 * dashboard streams share what is left.
 */
export const DASHBOARD_LIMIT = 5;

function dashboardShare(streams: StreamName[], configured: number): number {
  const snapshots = streams.filter((stream) => STREAMS[stream].kind === 'snapshot').length;
  const ranged = streams.filter((stream) => STREAMS[stream].kind === 'dashboard').length;
  if (ranged === 0) return configured;
  return Math.max(1, Math.min(configured, Math.floor((DASHBOARD_LIMIT - snapshots) / ranged)));
}

/** The internal input: resolved settings (earlier versions, the command line). */
function isSyncInput(input: unknown): input is SyncInput {
  return typeof input === 'object' && input !== null && 'settings' in input;
}

/** A person's request resolved on a worker: the connection's settings with the overrides, and its last state. */
async function resolveRequest(
  request: SyncRequest,
): Promise<{ input: SyncInput; searchAttributes: boolean }> {
  let resolved: Awaited<ReturnType<typeof resolveConnection>>;
  try {
    resolved = await resolveConnection(connectionField(request));
  } catch (error) {
    const cause = applicationCause(error);
    // The workflow fails with the worker's own words: which connections there are.
    if (cause?.nonRetryable) {
      throw ApplicationFailure.create({
        type: cause.type ?? undefined,
        nonRetryable: true,
        message: cause.message,
      });
    }
    throw error;
  }
  const startDate = request.start_date ? parseStartDate(request.start_date) : undefined;
  const settings: SyncSettings = {
    ...resolved.settings,
    ...(request.streams ? { streams: request.streams } : {}),
    ...(startDate !== undefined ? { startDate: isoInstant(startDate) } : {}),
  };
  upsertMemo({ connection: resolved.name });
  if (resolved.searchAttributes)
    upsertSearchAttributes([{ key: CONNECTION_ATTRIBUTE, value: resolved.name }]);
  await holdConnection(resolved.name);
  const last = await lastSyncState({
    connection: fileSafe(resolved.name),
    destination: settings.destination,
  });
  const state = last ? carriedState({ state: last }) : undefined;
  // A full refresh starts the chosen streams again; the others keep their state.
  if (state && request.full_refresh) for (const stream of settings.streams) delete state.streams[stream];
  return { input: { settings, ...(state ? { state } : {}) }, searchAttributes: resolved.searchAttributes };
}

export async function sync(given?: SyncInput | SyncRequest): Promise<SyncResult> {
  const info = workflowInfo();
  const requested = isSyncInput(given) ? undefined : await resolveRequest(parseSyncRequest(given));
  const input = requested?.input ?? checkedSyncInput(given as SyncInput);
  const { settings } = input;
  const startedAt = Date.now();
  const previous = startingState(input, info.lastResult, info.lastFailure);
  // A connection started by name files its manifests under that name; otherwise a scheduled run's
  // workflow ID carries the time of the action, and its manifests go with the schedule's.
  const connection = settings.connection ?? info.typedSearchAttributes.get(SCHEDULED_BY) ?? info.workflowId;
  const runKey = `${fileSafe(connection)}/${isoInstant(startedAt).slice(0, 19).replace(/:/g, '-')}Z_${info.runId}`;
  // For `amplitude-sync status`, which lists syncs by connection (a memo needs no registration).
  if (patched(CONNECTION_MEMO)) upsertMemo({ connection });

  const progress: Partial<Record<StreamName, StreamSummary | 'running'>> = {};
  setHandler(syncProgressQuery, () => progress);
  setCurrentDetails(
    `Syncing ${settings.streams.join(', ')} into ${describeDestination(settings.destination)}`,
  );

  const checked = patched(CHECKS_AND_RECONCILIATION);
  const removedAtStart = checked ? await checkBeforeStart(settings, runKey, previous) : undefined;

  const configuredShare = { ...DEFAULT_TUNING, ...settings.tuning }.dashboardConcurrency;
  const streamSettings: SyncSettings = {
    ...settings,
    tuning: { ...settings.tuning, dashboardConcurrency: dashboardShare(settings.streams, configuredShare) },
  };
  const outcomes = await Promise.allSettled(
    settings.streams.map(async (stream) => {
      progress[stream] = 'running';
      const previousState = previous.streams[stream];
      try {
        const summary = await executeChild(streamSync, {
          workflowId: `${info.workflowId}/${stream}`,
          args: [
            {
              stream,
              settings: streamSettings,
              runKey,
              ...(previousState ? { state: previousState } : {}),
            },
          ],
          ...(requested?.searchAttributes
            ? {
                typedSearchAttributes: [
                  { key: CONNECTION_ATTRIBUTE, value: settings.connection! },
                  { key: STREAM_ATTRIBUTE, value: stream },
                ],
              }
            : {}),
          staticSummary: `${stream} of ${info.workflowId}${previousState ? ` from ${previousState.completeBefore}` : ' from start_date'}`,
        });
        progress[stream] = summary;
        return summary;
      } catch (error) {
        const partial = childSummary(error);
        if (partial) progress[stream] = partial;
        throw error;
      }
    }),
  );
  const cancellation =
    CancellationScope.current().consideredCancelled ||
    outcomes.some((outcome) => outcome.status === 'rejected' && isCancellation(outcome.reason));

  // Streams this sync did not run keep their state: a sync of some streams must not reset the others.
  const state: SyncState = { streams: { ...previous.streams } };
  const streams: SyncResult['streams'] = {};
  const failed: string[] = [];
  settings.streams.forEach((stream, index) => {
    const outcome = outcomes[index]!;
    const summary = outcome.status === 'fulfilled' ? outcome.value : childSummary(outcome.reason);
    if (outcome.status === 'rejected') failed.push(`${stream} (${rootMessage(outcome.reason)})`);
    if (summary) streams[stream] = summary;
    const completeBefore = summary?.completeBefore;
    const recheck = summary?.recheck?.pending;
    const kept = completeBefore
      ? { completeBefore, ...(recheck && recheck.length > 0 ? { recheck } : {}) }
      : previous.streams[stream];
    if (kept) state.streams[stream] = kept;
  });

  const lag = metricMeter.createGauge(
    'amplitude_sync_watermark_lag_seconds',
    'float',
    'seconds',
    "how far each stream's watermark is behind the end of the last sync",
  );
  for (const [stream, streamState] of Object.entries(state.streams)) {
    const mark = streamState ? Date.parse(streamState.completeBefore) : Number.NaN;
    if (Number.isFinite(mark)) lag.set(Math.max(0, (Date.now() - mark) / 1000), { connection, stream });
  }

  // Runs to the end even when the sync was cancelled: what it wrote is recorded, its leftovers removed.
  const manifest = await CancellationScope.nonCancellable(async () => {
    let leftoversRemoved: unknown;
    let reconciliation: unknown;
    if (checked) {
      // Before this sync (interrupted earlier ones) and after it (its own attempts that died).
      const atEnd = await removeLeftovers({ runKey, destination: settings.destination }).catch(
        (error: unknown) => ({ error: rootMessage(error) }),
      );
      leftoversRemoved =
        'error' in atEnd || !removedAtStart
          ? atEnd
          : {
              files: removedAtStart.files + atEnd.files,
              bytes: removedAtStart.bytes + atEnd.bytes,
              receiptDirs: removedAtStart.receiptDirs + atEnd.receiptDirs,
            };
      if (!cancellation) reconciliation = await reconcile(settings, runKey, state);
    }
    const written = await writeManifest({
      runKey,
      destination: settings.destination,
      sync: {
        workflowId: info.workflowId,
        runId: info.runId,
        startedAt: isoInstant(startedAt),
        finishedAt: isoInstant(Date.now()),
      },
      state,
      streams,
      ...(reconciliation ? { reconciliation } : {}),
      ...(leftoversRemoved ? { leftoversRemoved } : {}),
    });
    return { ...written, reconciliation };
  });
  const result: SyncResult = {
    state,
    streams,
    manifest: manifest.path,
    ...(manifest.reconciliation ? { reconciliation: manifest.reconciliation } : {}),
  };
  if (cancellation) {
    // A cancellation carries no details: the progress it made goes in the memo, for the next sync.
    upsertMemo({ state });
    throw new CancelledFailure(`sync cancelled; its progress is kept (manifest ${manifest.path})`);
  }

  if (failed.length > 0) {
    throw ApplicationFailure.create({
      type: 'SyncStreamsFailed',
      nonRetryable: true,
      message: `${failed.length} of ${settings.streams.length} streams failed: ${failed.join('; ')}. The other streams completed; every stream's progress is kept (manifest ${manifest.path}).`,
      details: [result],
    });
  }
  setCurrentDetails(
    `Synced ${settings.streams.join(', ')}: ${manifest.records} records in ${manifest.partitions} partitions`,
  );
  return result;
}
