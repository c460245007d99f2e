// The worker: serves the workflows and the activities of its Amplitude connections (one, or many from
// a connections file). Credentials are read here, at start-up, and injected into the activities; they
// never travel through Temporal.
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from './activities/index.ts';
import { AmplitudeClient, type AmplitudeClientOptions } from './amplitude/client.ts';
import { startNormaliserThreads } from './amplitude/normaliser-thread.ts';
import { amplitudeBaseUrl, type ConnectionConfig, loadConfigFile, parseConfig } from './config.ts';
import { ConnectionRegistry, loadConnections, type NamedConnection } from './connections.ts';
import { destinations } from './destination/open.ts';
import { ensureSearchAttributes } from './search-attributes.ts';
import { DEFAULT_TASK_QUEUE } from './task-queue.ts';
import { workflowBundle } from './workflow-bundle.ts';

export interface AmplitudeWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  /** The one connection the worker serves (named `connectionName`, default "default")... */
  config?: ConnectionConfig;
  connectionName?: string;
  /** ...or several, by name. */
  connections?: NamedConnection[];
  /** Overrides the region hosts (tests point both regions at a simulator). */
  regionBaseUrls?: Partial<Record<ConnectionConfig['data_region'], string>>;
  /** HTTP timeouts and limits of the Amplitude client. */
  http?: Pick<AmplitudeClientOptions, 'headersTimeoutMs' | 'bodyTimeoutMs' | 'dashboardConcurrency'>;
  /** Longest time a heartbeat (the hours an export has committed) waits before it reaches Temporal. */
  heartbeatFlushMs?: number;
  /** Activities (export windows, dashboard slices) this worker runs at once; the rest go to other workers. */
  maxConcurrentActivities?: number;
  /** How the worker appears in histories (default: pid@host). */
  identity?: string;
}

// The SDK otherwise holds heartbeats back for 80% of the heartbeat timeout (48 s at our 60 s): a retry
// after a crash would then ask again for up to 48 s of export that was already committed.
const HEARTBEAT_FLUSH_MS = 2_000;

export function amplitudeClientFor(
  config: Pick<ConnectionConfig, 'api_key' | 'secret_key' | 'data_region' | 'base_url'>,
  regionBaseUrls: AmplitudeWorkerOptions['regionBaseUrls'] = {},
  http: AmplitudeWorkerOptions['http'] = {},
): AmplitudeClient {
  const baseUrl = config.base_url ?? regionBaseUrls[config.data_region] ?? amplitudeBaseUrl(config);
  return new AmplitudeClient({ ...http, baseUrl, apiKey: config.api_key, secretKey: config.secret_key });
}

export interface AmplitudeWorker {
  worker: Worker;
  connections: ConnectionRegistry;
  /** Runs the worker until `until` settles, then closes the Amplitude client. */
  runUntil<R>(until: Promise<R> | (() => Promise<R>)): Promise<R>;
  /** Runs the worker until it is shut down (SIGINT, SIGTERM), then closes its clients. */
  run(): Promise<void>;
}

/**
 * How far V8 lets the old generation grow past what the last full collection kept: 1.5x, where V8 on
 * its own allowed about 1.25x. On large exports the main thread promotes short-lived objects steadily,
 * and each full collection marks its whole 35 MB heap (mostly the Temporal SDK): at 1.25x that ran
 * several times a second and took 30% of the worker's CPU (perf). Large events, zstd, 4x: 0.48 -> 0.61
 * of the bare loop at the same peak memory (bench/worker-sync.bench.ts).
 */
const HEAP_GROWING_PERCENT = 50;

export async function createWorker(options: AmplitudeWorkerOptions): Promise<AmplitudeWorker> {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
  const named =
    options.connections ??
    (options.config ? [{ name: options.connectionName ?? 'default', config: options.config }] : []);
  if (named.length === 0) throw new Error('createWorker: give it a config or connections');
  const connections = new ConnectionRegistry(named, (config) =>
    amplitudeClientFor(config, options.regionBaseUrls, options.http),
  );
  const opened = destinations();
  const namespace = options.namespace ?? 'default';
  const searchAttributes = await ensureSearchAttributes(options.connection, namespace);
  const worker = await Worker.create({
    connection: options.connection,
    namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ connections, destination: opened.open, searchAttributes }),
    maxHeartbeatThrottleInterval: options.heartbeatFlushMs ?? HEARTBEAT_FLUSH_MS,
    ...(options.maxConcurrentActivities
      ? { maxConcurrentActivityTaskExecutions: options.maxConcurrentActivities }
      : {}),
    ...(options.identity ? { identity: options.identity } : {}),
  });
  startNormaliserThreads();
  return {
    worker,
    connections,
    async runUntil(until) {
      try {
        return await worker.runUntil(until);
      } finally {
        await connections.close();
        await opened.close();
      }
    },
    async run() {
      try {
        await worker.run();
      } finally {
        await connections.close();
        await opened.close();
      }
    },
  };
}

export interface RunWorkerOptions {
  /** One connection's config file (named after the file)... */
  configPath?: string;
  /** ...or a connections file or directory. Neither: one connection from AMPLITUDE_API_KEY/SECRET_KEY. */
  connectionsPath?: string;
  taskQueue?: string;
  maxConcurrentActivities?: number;
}

/** `amplitude-sync worker`: Temporal connection from envconfig (TEMPORAL_ADDRESS, ...), credentials from config/env. */
export async function runWorker(options: RunWorkerOptions = {}): Promise<void> {
  const taskQueue = options.taskQueue ?? DEFAULT_TASK_QUEUE;
  const named: NamedConnection[] = options.connectionsPath
    ? await loadConnections(options.connectionsPath)
    : [
        {
          name: options.configPath ? basename(options.configPath, '.json') : 'default',
          config: options.configPath
            ? await loadConfigFile(options.configPath)
            : parseConfig(
                { start_date: '2000-01-01' },
                process.env,
                'environment (AMPLITUDE_API_KEY, AMPLITUDE_SECRET_KEY)',
              ),
        },
      ];
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  const { run } = await createWorker({
    connection,
    connections: named,
    taskQueue,
    ...(options.maxConcurrentActivities ? { maxConcurrentActivities: options.maxConcurrentActivities } : {}),
    ...(namespace ? { namespace } : {}),
  });
  console.log(
    `worker listening on task queue ${taskQueue} (namespace ${namespace ?? 'default'}), serving ${named.map((c) => c.name).join(', ')}`,
  );
  try {
    await run();
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runWorker(process.argv[2] ? { configPath: process.argv[2] } : {});
}
