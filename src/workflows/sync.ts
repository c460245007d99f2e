// A sync of one connection: one child workflow per stream, all awaited; the result is the new state.

import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  defineQuery,
  executeChild,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { StreamName } from '../amplitude/streams.ts';
import { isoInstant } from '../amplitude/time.ts';
import { startingState } from './state.ts';
import { rootMessage, streamSync } from './stream.ts';
import type { StreamSummary, SyncInput, SyncResult, SyncState } from './types.ts';

export const syncProgressQuery =
  defineQuery<Partial<Record<StreamName, StreamSummary | 'running'>>>('progress');

const { writeManifest } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumAttempts: 5 },
  summary: 'write the sync manifest',
});

const SCHEDULED_BY = defineSearchAttributeKey('TemporalScheduledById', SearchAttributeType.KEYWORD);

function fileSafe(value: string): string {
  return value.replace(/[^\w.-]+/g, '_');
}

function childSummary(error: unknown): StreamSummary | undefined {
  if (error instanceof ChildWorkflowFailure && error.cause instanceof ApplicationFailure) {
    return error.cause.details?.[0] as StreamSummary | undefined;
  }
  return undefined;
}

export async function sync(input: SyncInput): Promise<SyncResult> {
  const info = workflowInfo();
  const { settings } = input;
  const startedAt = Date.now();
  const previous = startingState(input, info.lastResult, info.lastFailure);
  // A scheduled run's workflow ID carries the time of the action; its manifests go with the schedule's.
  const connection = info.typedSearchAttributes.get(SCHEDULED_BY) ?? info.workflowId;
  const runKey = `${fileSafe(connection)}/${isoInstant(startedAt).slice(0, 19).replace(/:/g, '-')}Z_${info.runId}`;

  const progress: Partial<Record<StreamName, StreamSummary | 'running'>> = {};
  setHandler(syncProgressQuery, () => progress);
  setCurrentDetails(`Syncing ${settings.streams.join(', ')} into ${settings.destination}`);

  const outcomes = await Promise.allSettled(
    settings.streams.map(async (stream) => {
      progress[stream] = 'running';
      const previousState = previous.streams[stream];
      try {
        const summary = await executeChild(streamSync, {
          workflowId: `${info.workflowId}/${stream}`,
          args: [{ stream, settings, runKey, ...(previousState ? { state: previousState } : {}) }],
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
    const kept = completeBefore ? { completeBefore } : previous.streams[stream];
    if (kept) state.streams[stream] = kept;
  });

  const manifest = await writeManifest({
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
  });
  const result: SyncResult = { state, streams, manifest: manifest.path };
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
