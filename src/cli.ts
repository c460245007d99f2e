// amplitude-sync: the command line.

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { isStreamName, STREAM_NAMES, type StreamName } from './amplitude/streams.ts';
import { ConfigError, type ConnectionConfig, loadConfigFile, syncSettings } from './config.ts';
import {
  deleteSyncSchedule,
  formatInterval,
  parseInterval,
  ScheduleError,
  upsertSyncSchedule,
} from './schedule.ts';
import { formatSummary, previousState, runSync, SyncFailedError } from './sync-runner.ts';
import { startEmbeddedTemporal } from './temporal/embedded.ts';
import { createWorker, DEFAULT_TASK_QUEUE, runWorker } from './worker.ts';
import { carriedState, stateProblems } from './workflows/state.ts';
import { rootMessage } from './workflows/stream.ts';
import type { SyncState } from './workflows/types.ts';

/** Against a cluster the workers hold the credentials; only the embedded worker needs them here. */
const configOptions = () => ({ requireCredentials: !process.env.TEMPORAL_ADDRESS });

const USAGE = `amplitude-sync: copy Amplitude data into storage you own, orchestrated by Temporal

Usage:
  amplitude-sync sync --config FILE [--out DIR] [--streams a,b] [--state FILE | --full-refresh] [--id WORKFLOW_ID]
  amplitude-sync check --config FILE
  amplitude-sync schedule --config FILE --every INTERVAL [--out DIR] [--streams a,b] [--id ID]
  amplitude-sync schedule --config FILE --delete [--out DIR] [--id ID]
  amplitude-sync worker [--config FILE] [--task-queue NAME]
  amplitude-sync demo [--out DIR] [--days N]

Without TEMPORAL_ADDRESS, sync and check start an embedded Temporal dev server (database in
$AMPLITUDE_SYNC_HOME or ./.amplitude-sync, UI address printed) and an in-process worker.
With TEMPORAL_ADDRESS (or a Temporal config profile), they start the workflow on that cluster and
wait for it; run \`amplitude-sync worker\` there. schedule creates (or updates, or deletes) a
Temporal Schedule on that cluster that syncs every INTERVAL (30m, 1h, 1d), each run starting where
the previous one ended. Streams: ${STREAM_NAMES.join(', ')}.`;

class UsageError extends Error {}

const taskQueueFromEnv = () => process.env.AMPLITUDE_SYNC_TASK_QUEUE ?? DEFAULT_TASK_QUEUE;

/** Runs `fn` against the Temporal cluster named by TEMPORAL_ADDRESS (or a Temporal config profile). */
async function withCluster<T>(fn: (client: Client, taskQueue: string) => Promise<T>): Promise<T> {
  const taskQueue = taskQueueFromEnv();
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await Connection.connect(connectionOptions);
  try {
    console.error(
      `using Temporal at ${process.env.TEMPORAL_ADDRESS}; workers on task queue ${taskQueue} do the work`,
    );
    return await fn(new Client({ connection, ...(namespace ? { namespace } : {}) }), taskQueue);
  } finally {
    await connection.close();
  }
}

/** Runs `fn` against Temporal: a cluster when TEMPORAL_ADDRESS is set, else an embedded server plus a worker. */
async function withTemporal<T>(
  config: ConnectionConfig,
  fn: (client: Client, taskQueue: string) => Promise<T>,
): Promise<T> {
  if (process.env.TEMPORAL_ADDRESS) return withCluster(fn);
  const taskQueue = taskQueueFromEnv();
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const embedded = await startEmbeddedTemporal();
  console.error(`embedded Temporal: UI at ${embedded.uiUrl} (database ${embedded.databasePath})`);
  try {
    const { runUntil } = await createWorker({ connection: embedded.env.nativeConnection, config, taskQueue });
    return await runUntil(fn(embedded.env.client, taskQueue));
  } finally {
    await embedded.env.teardown();
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
  const state = carriedState(parsed) ?? carriedState({ state: parsed });
  const problems = stateProblems(state ?? parsed);
  if (!state || problems.length > 0) {
    throw new UsageError(
      `--state ${path} is unusable: ${problems.join('; ')}. Give {"streams": {...}}, a sync result or a manifest.`,
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
    .update(`${resolve(configPath)}\n${resolve(config.destination.path)}`)
    .digest('hex')
    .slice(0, 8);
  return `amplitude-sync-${name}-${place}`;
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

async function syncCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      out: { type: 'string' },
      streams: { type: 'string' },
      state: { type: 'string' },
      'full-refresh': { type: 'boolean' },
      id: { type: 'string' },
    },
  });
  if (!values.config) throw new UsageError('sync needs --config FILE');
  if (values.state && values['full-refresh'])
    throw new UsageError('--state and --full-refresh exclude each other');
  const config = await loadConnection(values.config, values);
  const state = values.state ? await readStateFile(values.state) : undefined;
  const workflowId = connectionId(values.config, config, values.id);
  return withTemporal(config, async (client, taskQueue) => {
    try {
      const result = await runSync({
        client,
        workflowId,
        taskQueue,
        settings: syncSettings(config),
        ...(state ? { state } : {}),
        ...(values['full-refresh'] ? { fullRefresh: true } : {}),
        onStarted: (runId) => console.error(`sync started: workflow ${workflowId}, run ${runId}`),
      });
      console.log(`sync completed\n${formatSummary(result)}`);
      return 0;
    } catch (error) {
      if (!(error instanceof SyncFailedError)) throw error;
      console.error(`sync failed: ${error.message}`);
      if (error.partial) console.error(formatSummary(error.partial));
      return 1;
    }
  });
}

async function checkCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: 'string' } } });
  if (!values.config) throw new UsageError('check needs --config FILE');
  const config = await loadConfigFile(values.config, process.env, configOptions());
  return withTemporal(config, async (client, taskQueue) => {
    try {
      const result = await client.workflow.execute('check', {
        taskQueue,
        workflowId: `${connectionId(values.config!, config)}-check`,
        staticSummary: 'connection check',
      });
      console.log(`connection ok: ${JSON.stringify(result)}`);
      return 0;
    } catch (error) {
      if (!(error instanceof WorkflowFailedError)) throw error;
      console.error(`connection check failed: ${rootMessage(error)}`);
      return 1;
    }
  });
}

async function scheduleCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string' },
      every: { type: 'string' },
      out: { type: 'string' },
      streams: { type: 'string' },
      id: { type: 'string' },
      delete: { type: 'boolean' },
    },
  });
  if (!values.config) throw new UsageError('schedule needs --config FILE');
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
  return withCluster(async (client, taskQueue) => {
    let initialState: SyncState | undefined;
    try {
      initialState = await previousState(client, scheduleId);
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
      `schedule ${scheduleId} ${outcome}: syncs ${config.streams.join(', ')} every ${formatInterval(everyMs)}, next at ${next}; a run due while the previous one is still going is skipped (overlap SKIP). Runs are workflows ${scheduleId}-<time>, each starting where the previous ended${initialState ? ' (the first from the state of the last sync of this connection)' : ''}.`,
    );
    return 0;
  });
}

async function workerCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { config: { type: 'string' }, 'task-queue': { type: 'string' } },
  });
  await runWorker(
    values.config,
    values['task-queue'] ?? process.env.AMPLITUDE_SYNC_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
  );
  return 0;
}

async function demoCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { out: { type: 'string' }, days: { type: 'string' } } });
  const { runDemo } = await import('./demo.ts');
  return runDemo(
    { out: resolve(values.out ?? 'amplitude-data'), days: Number(values.days ?? 3) },
    withTemporal,
  );
}

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  sync: syncCommand,
  check: checkCommand,
  schedule: scheduleCommand,
  worker: workerCommand,
  demo: demoCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const run = command ? COMMANDS[command] : undefined;
  if (!run) {
    console.log(USAGE);
    return command && command !== 'help' && command !== '--help' ? 2 : 0;
  }
  try {
    return await run(rest);
  } catch (error) {
    if (error instanceof ConfigError || error instanceof UsageError || error instanceof ScheduleError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof TypeError && (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    throw error;
  }
}

export type WithTemporal = typeof withTemporal;

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  process.exitCode = await main(process.argv.slice(2));
}
