// amplitude-sync: the command line.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { airbyteCatalog } from './airbyte/catalog.ts';
import {
  catalogMessage,
  connectionStatusMessage,
  errorTraceMessage,
  ProtocolWriter,
  specMessage,
} from './airbyte/messages.ts';
import { airbyteSpec } from './airbyte/spec.ts';
import { isStreamName, STREAM_NAMES, type StreamName } from './amplitude/streams.ts';
import {
  ConfigError,
  type ConnectionConfig,
  destinationOf,
  loadConfigFile,
  startDateMs,
  syncSettings,
} from './config.ts';
import type { LoggingOptions } from './logging.ts';
import {
  connectionScheduleId,
  deleteSyncSchedule,
  formatInterval,
  parseInterval,
  ScheduleError,
  upsertConnectionSchedule,
  upsertSyncSchedule,
} from './schedule.ts';
import { connectionStatuses, formatStatuses } from './status.ts';
import { formatSummary, previousState, runSync, SyncCancelledError, SyncFailedError } from './sync-runner.ts';
import { DEFAULT_TASK_QUEUE } from './task-queue.ts';
import { HomeLockedError } from './temporal/home-lock.ts';
import { formatVerifyReport } from './verify-report.ts';
import { givenState } from './workflows/airbyte-state.ts';
import { rootMessage } from './workflows/stream.ts';
import type { SyncResult, SyncState, Tuning } from './workflows/types.ts';
import type { VerifyResult } from './workflows/verify.ts';

/** Against a cluster the workers hold the credentials; only the embedded worker needs them here. */
const configOptions = () => ({ requireCredentials: !process.env.TEMPORAL_ADDRESS });

const COMMAND_USAGE = {
  sync: 'amplitude-sync sync --config FILE [--out DIR] [--streams a,b] [--state FILE | --full-refresh] [--id WORKFLOW_ID]\n  amplitude-sync sync --connection NAME [--streams a,b] [--full-refresh] [--id WORKFLOW_ID]   (on a cluster)',
  check: 'amplitude-sync check --config FILE',
  verify: 'amplitude-sync verify --config FILE [--days N] [--out DIR] [--id WORKFLOW_ID]',
  schedule:
    'amplitude-sync schedule --config FILE --every INTERVAL [--out DIR] [--streams a,b] [--state FILE] [--id ID]\n  amplitude-sync schedule --config FILE --delete [--out DIR] [--id ID]\n  amplitude-sync schedule --connection NAME (--every INTERVAL [--streams a,b] | --delete)',
  worker:
    'amplitude-sync worker [--config FILE | --connections FILE_OR_DIR] [--task-queue NAME] [--max-activities N] [--metrics-port [HOST:]PORT]',
  status: 'amplitude-sync status [--connection NAME]',
  demo: 'amplitude-sync demo [--out DIR] [--days N]',
  spec: 'amplitude-sync spec',
  discover: 'amplitude-sync discover --config FILE',
  read: 'amplitude-sync read --config FILE --catalog FILE [--state FILE]',
} as const;

type CommandName = keyof typeof COMMAND_USAGE;

const USAGE = `amplitude-sync: copy Amplitude data into storage you own, orchestrated by Temporal

Usage:
${Object.values(COMMAND_USAGE)
  .map((usage) => `  ${usage}`)
  .join('\n')}

Every command takes --help, and --verbose (the Temporal SDK's own logs, stack traces included).
Without TEMPORAL_ADDRESS, sync, check and verify start an embedded Temporal dev server (database in
$AMPLITUDE_SYNC_HOME or ./.amplitude-sync, UI address printed) and an in-process worker; one command
at a time uses that directory. With TEMPORAL_ADDRESS (or a Temporal config profile), they start the
workflow on that cluster and wait for it; run \`amplitude-sync worker\` there. schedule creates (or
updates, or deletes) a Temporal Schedule on that cluster that syncs every INTERVAL (30m, 1h, 1d),
each run starting where the previous one ended. verify compares the events exported per day with
Amplitude's own daily totals. status shows, from Temporal alone, each connection's running sync and
its streams, its last completed and failed syncs, watermarks and schedules. spec, check, discover and
read speak the Airbyte protocol (one JSON message a line on stdout), as Airbyte's source-amplitude
does: read syncs the configured catalog's streams through the same workflows and streams the records
out, with a STATE after them that the next read takes. Streams: ${STREAM_NAMES.join(', ')}.`;

class UsageError extends Error {}

/** AMPLITUDE_SYNC_TUNING: shorter timeouts and retries for tests (JSON of workflows/types.ts Tuning). */
function tuningFromEnv(): { tuning?: Partial<Tuning> } {
  const text = process.env.AMPLITUDE_SYNC_TUNING;
  if (!text) return {};
  try {
    return { tuning: JSON.parse(text) as Partial<Tuning> };
  } catch (error) {
    throw new UsageError(`AMPLITUDE_SYNC_TUNING is not JSON: ${(error as Error).message}`);
  }
}

const taskQueueFromEnv = () => process.env.AMPLITUDE_SYNC_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;

/** Runs `fn` against the Temporal cluster named by TEMPORAL_ADDRESS (or a Temporal config profile). */
async function withCluster<T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = taskQueueFromEnv();
  const { connectionOptions, namespace } = loadClientConnectConfig();
  // While the client (re)connects, gRPC holds no reference on the event loop (its backoff timer is
  // unref'd), and Node would end the command mid-request with "unsettled top-level await" (exit 13:
  // seen under load, right after a sync had started): held from the first request to the last.
  const keepAlive = setInterval(() => {}, 60_000);
  try {
    const connection = await Connection.connect(connectionOptions);
    try {
      console.error(
        `using Temporal at ${process.env.TEMPORAL_ADDRESS}; workers on task queue ${taskQueue} do the work`,
      );
      return await fn(new Client({ connection, ...(namespace ? { namespace } : {}) }), taskQueue);
    } finally {
      await connection.close();
    }
  } finally {
    clearInterval(keepAlive);
  }
}

let loggingOptions: LoggingOptions = { verbose: false, service: false };

/**
 * The Temporal SDK's native runtime, with our logging, set up before this process's first worker or
 * native connection. A command that only talks to a cluster (through the client) never loads it.
 */
async function installNativeRuntime(): Promise<void> {
  const { installLogging } = await import('./logging.ts');
  installLogging(loggingOptions);
}

/**
 * The embedded server, its module (and the Temporal worker's native bridge) loaded only when a command
 * needs it: a command against a cluster starts 0.3 s sooner.
 */
async function startEmbedded() {
  await installNativeRuntime();
  const { startEmbeddedTemporal } = await import('./temporal/embedded.ts');
  return startEmbeddedTemporal(process.argv.slice(2).join(' '));
}

/** Runs `fn` against Temporal: a cluster when TEMPORAL_ADDRESS is set, else an embedded server plus a worker. */
async function withTemporal<T>(
  config: ConnectionConfig,
  fn: (client: Client, taskQueue: string) => Promise<T>,
): Promise<T> {
  if (process.env.TEMPORAL_ADDRESS) return withCluster(fn);
  const taskQueue = taskQueueFromEnv();
  const embedded = await startEmbedded();
  console.error(`embedded Temporal: UI at ${embedded.uiUrl} (database ${embedded.databasePath})`);
  try {
    const { createWorker } = await import('./worker.ts');
    const { runUntil } = await createWorker({ connection: embedded.nativeConnection, config, taskQueue });
    return await runUntil(fn(embedded.client, taskQueue));
  } finally {
    await embedded.stop();
  }
}

function parseStreams(value: string | undefined): StreamName[] | undefined {
  if (value === undefined) return undefined;
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !isStreamName(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new UsageError(
      `--streams: unknown stream ${unknown.join(', ') || '(none given)'}; use ${STREAM_NAMES.join(', ')}`,
    );
  }
  return names as StreamName[];
}

async function readStateFile(path: string): Promise<SyncState> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`--state ${path}: ${(error as Error).message}`);
  }
  const { state, problems, fromAirbyte } = givenState(parsed);
  if (!state || problems.length > 0) {
    throw new UsageError(
      `--state ${path} is unusable: ${problems.join('; ')}. Give {"streams": {...}}, a sync result, a manifest, or a state of Airbyte's source-amplitude.`,
    );
  }
  if (fromAirbyte) {
    const cursors = Object.entries(state.streams).map(
      ([stream, cursor]) => `${stream} from ${cursor?.completeBefore}`,
    );
    console.error(
      `--state ${path}: Airbyte's state, read as ${cursors.join(', ') || 'no cursor (every stream from start_date)'}`,
    );
  }
  return state;
}

/**
 * The workflow ID, which names the connection and finds its previous syncs: the config file's name
 * plus a digest of where the config and the output are, so two connections never share a state, and
 * output sent to a new place starts there from start_date.
 */
function connectionId(configPath: string, config: ConnectionConfig, explicit?: string): string {
  if (explicit) return explicit;
  const name = basename(configPath)
    .replace(/\.json$/, '')
    .replace(/[^\w.-]+/g, '-');
  const place = createHash('sha256')
    .update(`${resolve(configPath)}\n${destinationKey(config)}`)
    .digest('hex')
    .slice(0, 8);
  return `amplitude-sync-${name}-${place}`;
}

/** What names the destination in the connection's ID: the local root as before, else the whole spec. */
function destinationKey(config: ConnectionConfig): string {
  const spec = destinationOf(config);
  return spec.type === 'local' ? spec.path : JSON.stringify(spec);
}

/** The connection config with the command line's --streams and --out applied. */
async function loadConnection(
  configPath: string,
  overrides: { streams?: string | undefined; out?: string | undefined },
): Promise<ConnectionConfig> {
  const config = await loadConfigFile(configPath, process.env, configOptions());
  const streams = parseStreams(overrides.streams);
  if (streams) config.streams = streams;
  if (overrides.out) config.destination = { type: 'local', path: resolve(overrides.out) };
  return config;
}

/** Parses a command's options; --help prints its usage instead (null). */
type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string }>;

function options<T extends OptionSpec>(command: CommandName, args: string[], spec: T) {
  const { values } = parseArgs({ args, options: { ...spec, help: { type: 'boolean', short: 'h' } } });
  if ((values as { help?: boolean }).help) {
    console.log(`Usage:\n  ${COMMAND_USAGE[command]}`);
    return null;
  }
  return values as { [K in keyof T]?: T[K] extends { type: 'boolean' } ? boolean : string };
}

/** Ctrl-C or SIGTERM cancels the sync cleanly; a second one stops at once. */
function cancelOnSignals(what: string): { signal: AbortSignal; exitCode(): number; dispose(): void } {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) {
      console.error(`${signal} again: stopping now; the next sync of this connection continues this one`);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    }
    received = signal;
    console.error(
      `\n${signal}: cancelling ${what}; the hours it committed stay in place (press Ctrl-C again to stop at once)`,
    );
    controller.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: controller.signal,
    exitCode: () => (received === 'SIGTERM' ? 143 : 130),
    dispose() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** `sync --connection NAME` on a cluster: the same input as the Temporal UI, {"connection": NAME}. */
async function connectionSyncCommand(values: {
  connection?: string;
  streams?: string;
  'full-refresh'?: boolean;
  id?: string;
}): Promise<number> {
  if (!process.env.TEMPORAL_ADDRESS) {
    throw new UsageError(
      'sync --connection needs the Temporal cluster of the workers that hold it: set TEMPORAL_ADDRESS',
    );
  }
  const streams = parseStreams(values.streams);
  const input = {
    connection: values.connection!,
    ...(streams ? { streams } : {}),
    ...(values['full-refresh'] ? { full_refresh: true } : {}),
  };
  return withCluster(async (client, taskQueue) => {
    const workflowId =
      values.id ?? `amplitude-sync-${values.connection}-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    console.error(`sync started: workflow ${workflowId}`);
    try {
      const result = (await client.workflow.execute('sync', {
        taskQueue,
        workflowId,
        args: [input],
      })) as SyncResult;
      console.log(`sync completed\n${formatSummary(result)}`);
      return 0;
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      console.error(`sync failed: ${rootMessage(error)}`);
      return 1;
    }
  });
}

async function syncCommand(args: string[]): Promise<number> {
  const values = options('sync', args, {
    config: { type: 'string' },
    out: { type: 'string' },
    streams: { type: 'string' },
    state: { type: 'string' },
    'full-refresh': { type: 'boolean' },
    id: { type: 'string' },
    connection: { type: 'string' },
  });
  if (!values) return 0;
  if (values.connection) return connectionSyncCommand(values);
  if (!values.config) throw new UsageError('sync needs --config FILE (or --connection NAME on a cluster)');
  if (values.state && values['full-refresh'])
    throw new UsageError('--state and --full-refresh exclude each other');
  const config = await loadConnection(values.config, values);
  const state = values.state ? await readStateFile(values.state) : undefined;
  const workflowId = connectionId(values.config, config, values.id);
  const startDate = startDateMs(config);
  if (startDate > Date.now()) {
    console.error(
      `start_date ${config.start_date} is in the future: no event or dashboard day is due before then (annotations, cohorts and events_list are synced now)`,
    );
  }
  const signals = cancelOnSignals(`sync ${workflowId}`);
  try {
    return await withTemporal(config, async (client, taskQueue) => {
      try {
        const result = await runSync({
          client,
          workflowId,
          taskQueue,
          settings: { ...syncSettings(config), ...tuningFromEnv() },
          ...(state ? { state } : {}),
          ...(values['full-refresh'] ? { fullRefresh: true } : {}),
          signal: signals.signal,
          onStarted: (runId) => console.error(`sync started: workflow ${workflowId}, run ${runId}`),
          onAttached: (runId, startedAt) =>
            console.error(
              `a sync of this connection is already running (run ${runId}, started ${startedAt.toISOString()}, its command was interrupted): following it to the end instead of starting another`,
            ),
          onRetry: (line) => console.error(line),
          // On a terminal, a live display per stream; otherwise one line per event of note.
          ...(process.stderr.isTTY && !process.env.AMPLITUDE_SYNC_NO_PROGRESS
            ? { progressTo: process.stderr }
            : {}),
        });
        console.log(`sync completed\n${formatSummary(result)}`);
        return 0;
      } catch (error) {
        if (error instanceof SyncCancelledError) {
          console.error(error.message);
          return signals.exitCode();
        }
        if (!(error instanceof SyncFailedError)) throw error;
        console.error(`sync failed: ${error.message}`);
        if (error.partial) console.error(formatSummary(error.partial));
        return 1;
      }
    });
  } finally {
    signals.dispose();
  }
}

/**
 * `check`: Amplitude's keys and region, and the destination when the config names one. Its verdict is
 * also an Airbyte CONNECTION_STATUS message on stdout; in the connector image (AIRBYTE_ENTRYPOINT set)
 * a failed check exits 0, as Airbyte's connectors do.
 */
async function checkCommand(args: string[]): Promise<number> {
  const values = options('check', args, { config: { type: 'string' } });
  if (!values) return 0;
  if (!values.config) throw new UsageError('check needs --config FILE');
  const configPath = values.config;
  const failed = (message: string, code: number) => {
    console.error(`connection check failed: ${message}`);
    console.log(JSON.stringify(connectionStatusMessage(message)));
    return process.env.AIRBYTE_ENTRYPOINT ? 0 : code;
  };
  let config: ConnectionConfig;
  try {
    config = await loadConfigFile(configPath, process.env, configOptions());
  } catch (error) {
    if (error instanceof ConfigError) return failed(error.message, 2);
    throw error;
  }
  const destination = (await namesDestination(configPath)) ? destinationOf(config) : undefined;
  const check = (client: Client, taskQueue: string) =>
    client.workflow.execute('check', {
      taskQueue,
      workflowId: `${connectionId(configPath, config)}-check`,
      args: [destination ? { destination } : {}],
      staticSummary: `connection check: Amplitude${destination ? ' and the destination' : ''}`,
    });
  try {
    const result = await withTemporal(config, check);
    console.error(`connection ok: ${JSON.stringify(result)}`);
    console.log(JSON.stringify(connectionStatusMessage()));
    return 0;
  } catch (error) {
    // Whatever stops the check (a wrong key, the embedded server, the cluster) is its verdict.
    if (error instanceof WorkflowFailedError) return failed(rootMessage(error), 1);
    return failed(`the check could not run: ${(error as Error).message}`, 1);
  }
}

/** Whether the config file sets `destination` (an Airbyte config does not: check then leaves it be). */
async function namesDestination(configPath: string): Promise<boolean> {
  const raw = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>;
  return raw.destination !== undefined;
}

/** Airbyte's `spec`: the connector specification. */
async function specCommand(args: string[]): Promise<number> {
  if (!options('spec', args, {})) return 0;
  console.log(JSON.stringify(specMessage(airbyteSpec())));
  return 0;
}

/** Airbyte's `discover`: the six streams with their schemas, once the config is known to be usable. */
async function discoverCommand(args: string[]): Promise<number> {
  const values = options('discover', args, { config: { type: 'string' } });
  if (!values) return 0;
  if (!values.config) throw new UsageError('discover needs --config FILE');
  try {
    await loadConfigFile(values.config, process.env, { requireCredentials: false });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.log(JSON.stringify(errorTraceMessage('config_error', error.message)));
    return 1;
  }
  console.log(JSON.stringify(catalogMessage(airbyteCatalog())));
  return 0;
}

/** Airbyte's `read`: the configured streams, as RECORD and STATE messages on stdout. */
async function readCommand(args: string[]): Promise<number> {
  const values = options('read', args, {
    config: { type: 'string' },
    catalog: { type: 'string' },
    state: { type: 'string' },
  });
  if (!values) return 0;
  if (!values.config || !values.catalog) throw new UsageError('read needs --config FILE and --catalog FILE');
  const signals = cancelOnSignals('the read');
  try {
    await installNativeRuntime();
    const { airbyteRead } = await import('./airbyte/read.ts');
    return await airbyteRead({
      configPath: values.config,
      catalogPath: values.catalog,
      ...(values.state ? { statePath: values.state } : {}),
      out: new ProtocolWriter(process.stdout),
      ...tuningFromEnv(),
      signal: signals.signal,
    });
  } finally {
    signals.dispose();
  }
}

async function verifyCommand(args: string[]): Promise<number> {
  const values = options('verify', args, {
    config: { type: 'string' },
    days: { type: 'string' },
    out: { type: 'string' },
    id: { type: 'string' },
  });
  if (!values) return 0;
  if (!values.config) throw new UsageError('verify needs --config FILE');
  const days = Number(values.days ?? 7);
  if (!Number.isInteger(days) || days < 1 || days > 365) {
    throw new UsageError(`--days ${values.days}: give a whole number of days from 1 to 365`);
  }
  const config = await loadConnection(values.config, values);
  const workflowId = connectionId(values.config, config, values.id);
  return withTemporal(config, async (client, taskQueue) => {
    const events = (await previousState(client, workflowId).catch(() => undefined))?.streams.events;
    if (!events) {
      console.error(
        `no events have been synced for this connection (${workflowId}) yet: run amplitude-sync sync first`,
      );
      return 1;
    }
    try {
      const result = (await client.workflow.execute('verify', {
        taskQueue,
        workflowId: `${workflowId}-verify`,
        args: [
          { settings: syncSettings(config), connection: workflowId, days, before: events.completeBefore },
        ],
        staticSummary: `count reconciliation of ${workflowId}, ${days} days`,
      })) as VerifyResult;
      console.log(formatVerifyReport(result));
      return result.differing.length > 0 ? 1 : 0;
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      console.error(`verify failed: ${rootMessage(error)}`);
      return 1;
    }
  });
}

/** `schedule --connection NAME`: the runs start with {"connection": NAME}; the workers hold its config. */
async function connectionScheduleCommand(values: {
  connection?: string;
  every?: string;
  streams?: string;
  delete?: boolean;
}): Promise<number> {
  const connection = values.connection!;
  if (!process.env.TEMPORAL_ADDRESS) {
    throw new UsageError(
      'schedule --connection needs the Temporal cluster of the workers: set TEMPORAL_ADDRESS',
    );
  }
  const scheduleId = connectionScheduleId(connection);
  if (values.delete) {
    return withCluster(async (client) => {
      await deleteSyncSchedule(client, scheduleId);
      console.log(`schedule ${scheduleId} deleted; the data and manifests it wrote stay in place`);
      return 0;
    });
  }
  const everyMs = values.every === undefined ? undefined : parseInterval(values.every);
  if (everyMs === undefined) {
    throw new UsageError(
      'schedule needs --every INTERVAL: a whole number of minutes, hours or days, at least 1m (30m, 1h, 1d)',
    );
  }
  const streams = parseStreams(values.streams);
  return withCluster(async (client, taskQueue) => {
    const outcome = await upsertConnectionSchedule({
      client,
      connection,
      taskQueue,
      everyMs,
      ...(streams ? { streams } : {}),
    });
    const { info } = await client.schedule.getHandle(scheduleId).describe();
    console.log(
      `schedule ${scheduleId} ${outcome}: syncs connection ${connection} every ${formatInterval(everyMs)}, next at ${info.nextActionTimes[0]?.toISOString() ?? 'never'}; a run due while the previous one is still going is skipped.`,
    );
    return 0;
  });
}

async function scheduleCommand(args: string[]): Promise<number> {
  const values = options('schedule', args, {
    config: { type: 'string' },
    every: { type: 'string' },
    out: { type: 'string' },
    streams: { type: 'string' },
    id: { type: 'string' },
    delete: { type: 'boolean' },
    connection: { type: 'string' },
    state: { type: 'string' },
  });
  if (!values) return 0;
  if (values.connection) return connectionScheduleCommand(values);
  if (!values.config) throw new UsageError('schedule needs --config FILE (or --connection NAME)');
  if (!process.env.TEMPORAL_ADDRESS) {
    throw new UsageError(
      'schedule needs a Temporal cluster that stays up: set TEMPORAL_ADDRESS and run `amplitude-sync worker` next to it. (The embedded server lives only while a command runs; on one machine, run `amplitude-sync sync` from cron instead.)',
    );
  }
  const config = await loadConnection(values.config, values);
  const scheduleId = connectionId(values.config, config, values.id);
  if (values.delete) {
    return withCluster(async (client) => {
      await deleteSyncSchedule(client, scheduleId);
      console.log(`schedule ${scheduleId} deleted; the data and manifests it wrote stay in place`);
      return 0;
    });
  }
  if (!values.every) throw new UsageError('schedule needs --every INTERVAL (like 30m, 1h or 1d) or --delete');
  const everyMs = parseInterval(values.every);
  if (everyMs === undefined) {
    throw new UsageError(
      `--every ${values.every}: give a whole number of minutes, hours or days, at least 1m (30m, 1h, 1d)`,
    );
  }
  const givenState = values.state ? await readStateFile(values.state) : undefined;
  return withCluster(async (client, taskQueue) => {
    let initialState: SyncState | undefined = givenState;
    try {
      initialState ??= await previousState(client, scheduleId);
    } catch (error) {
      if (!(error instanceof SyncFailedError)) throw error;
      console.error(`schedule not created: ${error.message}`);
      return 1;
    }
    const outcome = await upsertSyncSchedule({
      client,
      scheduleId,
      taskQueue,
      settings: syncSettings(config),
      everyMs,
      ...(initialState ? { initialState } : {}),
    });
    const { info } = await client.schedule.getHandle(scheduleId).describe();
    const next = info.nextActionTimes[0]?.toISOString() ?? 'never';
    console.log(
      `schedule ${scheduleId} ${outcome}: syncs ${config.streams.join(', ')} every ${formatInterval(everyMs)}, next at ${next}; a run due while the previous one is still going is skipped (overlap SKIP). Runs are workflows ${scheduleId}-<time>, each starting where the previous ended${givenState ? ` (the first from --state ${values.state})` : initialState ? ' (the first from the state of the last sync of this connection)' : ''}.`,
    );
    return 0;
  });
}

async function workerCommand(args: string[]): Promise<number> {
  const values = options('worker', args, {
    config: { type: 'string' },
    connections: { type: 'string' },
    'task-queue': { type: 'string' },
    'max-activities': { type: 'string' },
    'metrics-port': { type: 'string' },
  });
  if (!values) return 0;
  const maxActivities = values['max-activities'] === undefined ? undefined : Number(values['max-activities']);
  if (maxActivities !== undefined && !(Number.isInteger(maxActivities) && maxActivities >= 1)) {
    throw new UsageError(
      '--max-activities must be a whole number of at least 1 (activities this worker runs at once)',
    );
  }
  if (values.config && values.connections) {
    throw new UsageError('worker: give --config (one connection) or --connections (several), not both');
  }
  await installNativeRuntime();
  const { runWorker } = await import('./worker.ts');
  await runWorker({
    ...(values.config ? { configPath: values.config } : {}),
    ...(values.connections ? { connectionsPath: values.connections } : {}),
    taskQueue: values['task-queue'] ?? taskQueueFromEnv(),
    ...(maxActivities ? { maxConcurrentActivities: maxActivities } : {}),
  });
  return 0;
}

async function statusCommand(args: string[]): Promise<number> {
  const values = options('status', args, { connection: { type: 'string' } });
  if (!values) return 0;
  const show = async (client: Client) => {
    console.log(formatStatuses(await connectionStatuses(client, values.connection)));
    return 0;
  };
  if (process.env.TEMPORAL_ADDRESS) return withCluster(show);
  const embedded = await startEmbedded();
  try {
    return await show(embedded.client);
  } finally {
    await embedded.stop();
  }
}

async function demoCommand(args: string[]): Promise<number> {
  const values = options('demo', args, { out: { type: 'string' }, days: { type: 'string' } });
  if (!values) return 0;
  const { runDemo } = await import('./demo.ts');
  return runDemo(
    { out: resolve(values.out ?? 'amplitude-data'), days: Number(values.days ?? 3) },
    withTemporal,
  );
}

const COMMANDS: Record<CommandName, (args: string[]) => Promise<number>> = {
  sync: syncCommand,
  check: checkCommand,
  verify: verifyCommand,
  schedule: scheduleCommand,
  worker: workerCommand,
  status: statusCommand,
  demo: demoCommand,
  spec: specCommand,
  discover: discoverCommand,
  read: readCommand,
};

/** `--metrics-port 9464` (all interfaces) or `--metrics-port 127.0.0.1:9464`: where the worker serves /metrics. */
function metricsAddressOf(args: string[]): string | undefined {
  const at = args.indexOf('--metrics-port');
  if (at === -1) return undefined;
  const value = args[at + 1] ?? '';
  const [host, port] = value.includes(':') ? value.split(':') : ['0.0.0.0', value];
  if (!/^\d+$/.test(port ?? '') || Number(port) < 1 || Number(port) > 65535) {
    throw new UsageError(
      `--metrics-port must be a port (9464) or host:port (127.0.0.1:9464), not "${value}"`,
    );
  }
  return `${host}:${port}`;
}

export async function main(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  const [command, ...rest] = argv.filter((arg) => arg !== '--verbose');
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    console.log(USAGE);
    return 0;
  }
  const run = (COMMANDS as Record<string, (args: string[]) => Promise<number>>)[command];
  if (!run) {
    console.error(
      `unknown command "${command}"; the commands are ${Object.keys(COMMANDS).join(', ')}\n\n${USAGE}`,
    );
    return 2;
  }
  let metricsAddress: string | undefined;
  try {
    metricsAddress = command === 'worker' ? metricsAddressOf(rest) : undefined;
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  loggingOptions = { verbose, service: command === 'worker', ...(metricsAddress ? { metricsAddress } : {}) };
  try {
    return await run(rest);
  } catch (error) {
    if (
      error instanceof ConfigError ||
      error instanceof UsageError ||
      error instanceof ScheduleError ||
      error instanceof HomeLockedError
    ) {
      console.error(error.message);
      return error instanceof HomeLockedError ? 1 : 2;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${command}: ${error.message}\n\nUsage:\n  ${COMMAND_USAGE[command as CommandName]}`);
      return 2;
    }
    console.error(`amplitude-sync ${command} failed: ${(error as Error).message ?? error}`);
    if (verbose) console.error(error);
    else console.error('(run again with --verbose for the details)');
    return 1;
  }
}

export type WithTemporal = typeof withTemporal;

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
