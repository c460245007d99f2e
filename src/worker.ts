// The worker: serves the workflows and the activities of one Amplitude connection. Credentials are
// read here, at start-up, and injected into the activities; they never travel through Temporal.
import { fileURLToPath } from 'node:url';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundle } from '@temporalio/worker';
import { createActivities } from './activities/index.ts';
import { AmplitudeClient, type AmplitudeClientOptions } from './amplitude/client.ts';
import { amplitudeBaseUrl, type ConnectionConfig, loadConfigFile, parseConfig } from './config.ts';
import { destinations } from './destination/open.ts';

export const DEFAULT_TASK_QUEUE = 'amplitude-sync';
export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

let bundle: Promise<WorkflowBundle> | undefined;

/** Bundles the workflow code once per process; every worker in the process shares it. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  return bundle;
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.warn(message);
  },
  error(message: string) {
    console.error(message);
  },
};

export interface AmplitudeWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue?: string;
  config: Pick<ConnectionConfig, 'api_key' | 'secret_key' | 'data_region' | 'base_url'>;
  /** Overrides the region hosts (tests point both regions at a simulator). */
  regionBaseUrls?: Partial<Record<ConnectionConfig['data_region'], string>>;
  /** HTTP timeouts and limits of the Amplitude client. */
  http?: Pick<AmplitudeClientOptions, 'headersTimeoutMs' | 'bodyTimeoutMs' | 'dashboardConcurrency'>;
  /** Longest time a heartbeat (the hours an export has committed) waits before it reaches Temporal. */
  heartbeatFlushMs?: number;
}

// The SDK otherwise holds heartbeats back for 80% of the heartbeat timeout (48 s at our 60 s): a retry
// after a crash would then ask again for up to 48 s of export that was already committed.
const HEARTBEAT_FLUSH_MS = 2_000;

export function amplitudeClientFor(
  config: AmplitudeWorkerOptions['config'],
  regionBaseUrls: AmplitudeWorkerOptions['regionBaseUrls'] = {},
  http: AmplitudeWorkerOptions['http'] = {},
): AmplitudeClient {
  const baseUrl = config.base_url ?? regionBaseUrls[config.data_region] ?? amplitudeBaseUrl(config);
  return new AmplitudeClient({ ...http, baseUrl, apiKey: config.api_key, secretKey: config.secret_key });
}

export interface AmplitudeWorker {
  worker: Worker;
  amplitude: AmplitudeClient;
  /** Runs the worker until `until` settles, then closes the Amplitude client. */
  runUntil<R>(until: Promise<R> | (() => Promise<R>)): Promise<R>;
  /** Runs the worker until it is shut down (SIGINT, SIGTERM), then closes its clients. */
  run(): Promise<void>;
}

export async function createWorker(options: AmplitudeWorkerOptions): Promise<AmplitudeWorker> {
  const amplitude = amplitudeClientFor(options.config, options.regionBaseUrls, options.http);
  const opened = destinations();
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    workflowBundle: await workflowBundle(),
    activities: createActivities({ amplitude, destination: opened.open }),
    maxHeartbeatThrottleInterval: options.heartbeatFlushMs ?? HEARTBEAT_FLUSH_MS,
  });
  return {
    worker,
    amplitude,
    async runUntil(until) {
      try {
        return await worker.runUntil(until);
      } finally {
        await amplitude.close();
        await opened.close();
      }
    },
    async run() {
      try {
        await worker.run();
      } finally {
        await amplitude.close();
        await opened.close();
      }
    },
  };
}

/** `amplitude-sync worker`: Temporal connection from envconfig (TEMPORAL_ADDRESS, ...), credentials from config/env. */
export async function runWorker(
  configPath: string | undefined,
  taskQueue = DEFAULT_TASK_QUEUE,
): Promise<void> {
  const config = configPath
    ? await loadConfigFile(configPath)
    : parseConfig(
        { start_date: '2000-01-01' },
        process.env,
        'environment (AMPLITUDE_API_KEY, AMPLITUDE_SECRET_KEY)',
      );
  const { connectionOptions, namespace } = loadClientConnectConfig();
  const connection = await NativeConnection.connect(connectionOptions);
  const { run } = await createWorker({
    connection,
    config,
    taskQueue,
    ...(namespace ? { namespace } : {}),
  });
  console.log(`worker listening on task queue ${taskQueue} (namespace ${namespace ?? 'default'})`);
  try {
    await run();
  } finally {
    await connection.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runWorker(process.argv[2]);
}
