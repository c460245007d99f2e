// `read`, as Airbyte runs a source: the configured streams are synced by the same Temporal workflows as
// `sync` (an embedded dev server when TEMPORAL_ADDRESS is unset; otherwise that cluster, with a worker
// in this process on a task queue of its own), into a scratch directory whose partitions are streamed
// out as RECORD lines as they are committed. After them, each stream's STATE: its watermark as the
// workflow reports it, queried before the partitions were listed, so a state never runs ahead of the
// records before it. The next `read` given that state continues from it exactly.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { FailureType } from '../amplitude/errors.ts';
import type { StreamName } from '../amplitude/streams.ts';
import { type ConnectionConfig, loadConfigFile, syncSettings } from '../config.ts';
import { zstdAvailable } from '../destination/codec.ts';
import type { LocalSpec } from '../destination/spec.ts';
import { streamsProgress } from '../sync-progress.ts';
import { runSync, SyncCancelledError, SyncFailedError } from '../sync-runner.ts';
import { startEmbeddedTemporal } from '../temporal/embedded.ts';
import { createWorker } from '../worker.ts';
import { givenState, toAirbyteStreamState } from '../workflows/airbyte-state.ts';
import type { StreamProgress } from '../workflows/stream.ts';
import type { StreamState, SyncResult, SyncState, Tuning } from '../workflows/types.ts';
import { type ReadSelection, readSelection } from './configured-catalog.ts';
import {
  errorTraceMessage,
  logMessage,
  OutputClosedError,
  type ProtocolWriter,
  streamStateMessage,
  streamStatusMessage,
} from './messages.ts';
import { PartitionFeed } from './partition-feed.ts';

export interface ReadOptions {
  configPath: string;
  catalogPath: string;
  statePath?: string;
  out: ProtocolWriter;
  tuning?: Partial<Tuning>;
  signal?: AbortSignal;
}

/** A problem with what the person gave: the config, the catalog or the state. */
export class ReadInputError extends Error {
  override name = 'ReadInputError';
}

const POLL_MS = 500;

async function readJson(path: string, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ReadInputError(`${what} ${path}: ${(error as Error).message}`);
  }
}

/** The state Airbyte passes (its own, or one `read` emitted), or ours; only incremental streams keep theirs. */
async function startingState(path: string, selection: ReadSelection): Promise<SyncState> {
  const value = await readJson(path, '--state');
  if (value === null) return { streams: {} };
  const { state, problems } = givenState(value);
  if (!state || problems.length > 0) {
    throw new ReadInputError(
      `--state ${path} is unusable: ${problems.join('; ') || 'not a state'}. Give the STATE messages a read emitted (or Airbyte's source-amplitude), or leave --state out to read from start_date.`,
    );
  }
  const kept: SyncState = { streams: {} };
  for (const stream of selection.incremental) {
    const cursor = state.streams[stream];
    if (cursor) kept.streams[stream] = cursor;
  }
  return kept;
}

/** Runs `fn` with a Temporal client and a worker of this process serving `config` on a task queue of its own. */
async function withReadTemporal<T>(
  config: ConnectionConfig,
  fn: (client: Client, taskQueue: string) => Promise<T>,
): Promise<T> {
  const taskQueue = `amplitude-sync-read-${randomUUID()}`;
  if (process.env.TEMPORAL_ADDRESS) {
    const { connectionOptions, namespace } = loadClientConnectConfig();
    const { address, tls, apiKey, metadata } = connectionOptions;
    const connection = await NativeConnection.connect({
      ...(address ? { address } : {}),
      ...(tls ? { tls } : {}),
      ...(apiKey ? { apiKey } : {}),
      ...(metadata ? { metadata } : {}),
    });
    try {
      const worker = await createWorker({
        connection,
        config,
        taskQueue,
        ...(namespace ? { namespace } : {}),
      });
      const client = new Client({ connection, ...(namespace ? { namespace } : {}) });
      return await worker.runUntil(fn(client, taskQueue));
    } finally {
      await connection.close();
    }
  }
  // A home of its own: reads never wait for each other, and the state lives in Airbyte's messages.
  const home = await mkdtemp(join(tmpdir(), 'amplitude-sync-read-home-'));
  try {
    const embedded = await startEmbeddedTemporal('read', home);
    try {
      const worker = await createWorker({ connection: embedded.nativeConnection, config, taskQueue });
      return await worker.runUntil(fn(embedded.client, taskQueue));
    } finally {
      await embedded.stop();
    }
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

/** Each stream's state as its workflow reports it now: the watermark and, for events, the re-check list. */
async function liveStates(
  client: Client,
  workflowId: string,
  streams: readonly StreamName[],
): Promise<Map<StreamName, StreamState>> {
  const states = new Map<StreamName, StreamState>();
  for (const [stream, live] of await streamsProgress(client, workflowId, streams)) {
    const completeBefore = (live as StreamProgress | undefined)?.watermark ?? live?.completeBefore;
    if (!completeBefore) continue;
    const recheck = live?.recheck?.pending ?? [];
    states.set(stream, { completeBefore, ...(recheck.length > 0 ? { recheck } : {}) });
  }
  return states;
}

/** Config errors are the person's to fix; the rest are ours or Amplitude's. */
function failureKind(error: SyncFailedError): 'config_error' | 'system_error' {
  return error.failureType === FailureType.AuthFailed || error.failureType === 'InvalidSyncInput'
    ? 'config_error'
    : 'system_error';
}

export async function airbyteRead(options: ReadOptions): Promise<number> {
  const { out } = options;
  let config: ConnectionConfig;
  let selection: ReadSelection;
  let state: SyncState;
  try {
    config = await loadConfigFile(options.configPath, process.env, { requireCredentials: true });
    selection = readSelection(
      await readJson(options.catalogPath, '--catalog'),
      `--catalog ${options.catalogPath}`,
    );
    state = options.statePath ? await startingState(options.statePath, selection) : { streams: {} };
  } catch (error) {
    await out.message(errorTraceMessage('config_error', (error as Error).message));
    return 1;
  }

  const scratch = await mkdtemp(join(tmpdir(), 'amplitude-sync-read-'));
  const workflowId = `amplitude-sync-read-${Date.now()}-${randomUUID().slice(0, 8)}`;
  const synced = syncSettings({
    ...config,
    streams: selection.streams,
    // zstd where this Node has it: the scratch files are read back at once, and zstd costs less CPU.
    destination: { type: 'local', path: scratch, ...(zstdAvailable() ? { compression: 'zstd' } : {}) },
  });
  const settings = {
    ...synced,
    destination: { ...(synced.destination as LocalSpec), readBack: true },
    // The scratch directory holds only what this sync wrote (and less, once emitted): nothing to count.
    reconcile: false,
    ...(options.tuning ? { tuning: options.tuning } : {}),
  };
  const feed = new PartitionFeed(scratch, new Set(selection.streams), out, (stream) =>
    out.message(streamStatusMessage(stream, 'RUNNING')),
  );
  const emitted = new Map<StreamName, string>();
  const emitState = async (stream: StreamName, streamState: StreamState) => {
    const text = JSON.stringify(streamState);
    if (emitted.get(stream) === text) return;
    emitted.set(stream, text);
    await out.message(streamStateMessage(stream, toAirbyteStreamState(stream, streamState)));
  };
  await out.message(
    logMessage(
      'INFO',
      `reading ${selection.streams.map((s) => `${s} (${selection.incremental.has(s) ? (state.streams[s] ? `incremental from ${state.streams[s]!.completeBefore}` : 'incremental from start_date') : 'full refresh'})`).join(', ')} through Temporal workflow ${workflowId}`,
    ),
  );
  // Stopped by a signal, or by the reader going away: the sync is cancelled, and waited for.
  const stop = new AbortController();
  for (const signal of [options.signal, out.closed]) {
    if (signal?.aborted) stop.abort();
    signal?.addEventListener('abort', () => stop.abort(), { once: true });
  }
  let statusesReported = false;
  const reportStatuses = async (final: SyncResult | undefined) => {
    if (statusesReported) return;
    statusesReported = true;
    for (const stream of selection.streams) {
      const complete = final?.streams[stream]?.status === 'complete';
      await out.message(streamStatusMessage(stream, complete ? 'COMPLETE' : 'INCOMPLETE'));
    }
  };

  try {
    for (const stream of selection.streams) await out.message(streamStatusMessage(stream, 'STARTED'));
    return await withReadTemporal(config, async (client, taskQueue) => {
      let finished = false;
      const syncEnded = new AbortController();
      let outcome: SyncResult | Error | undefined;
      const settled = runSync({
        client,
        workflowId,
        taskQueue,
        settings,
        state,
        signal: stop.signal,
        onRetry: (line) => void out.message(logMessage('WARN', line)).catch(() => {}),
      })
        .then(
          (result) => {
            outcome = result;
          },
          (error: Error) => {
            outcome = error;
          },
        )
        .finally(() => {
          finished = true;
          syncEnded.abort();
        });
      try {
        while (!finished) {
          // Not a race against `settled`: each would leave a reaction on it until the sync ends.
          await sleep(POLL_MS, undefined, { signal: syncEnded.signal }).catch(() => {});
          if (finished) break;
          const live = await liveStates(client, workflowId, [...selection.incremental]);
          await feed.emitNew();
          for (const [stream, streamState] of live) await emitState(stream, streamState);
        }
        await settled;
        await feed.emitNew();
      } catch (error) {
        // The output failed: cancel the sync and wait for it, so that no workflow is left behind.
        stop.abort();
        await settled;
        throw error;
      }
      const final =
        outcome instanceof SyncFailedError ? outcome.partial : outcome instanceof Error ? undefined : outcome;
      for (const stream of selection.incremental) {
        const streamState = final?.state.streams[stream];
        if (streamState) await emitState(stream, streamState);
      }
      await reportStatuses(final);
      if (outcome instanceof SyncFailedError) {
        await out.message(
          errorTraceMessage(failureKind(outcome), `amplitude-sync read failed: ${outcome.message}`),
        );
        return 1;
      }
      if (outcome instanceof Error) throw outcome;
      await out.message(
        logMessage('INFO', `read complete: ${feed.records} records of ${selection.streams.join(', ')}`),
      );
      return 0;
    });
  } catch (error) {
    if (error instanceof OutputClosedError || out.closed.aborted) {
      console.error(`amplitude-sync read stopped: ${(error as Error).message}; its sync was cancelled`);
      return 1;
    }
    const cancelled = error instanceof SyncCancelledError;
    await reportStatuses(undefined);
    await out.message(
      errorTraceMessage(
        'system_error',
        `amplitude-sync read ${cancelled ? 'cancelled' : 'failed'}: ${(error as Error).message}`,
      ),
    );
    return cancelled ? 143 : 1;
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}
