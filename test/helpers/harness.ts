// One place to wire a test: the Amplitude simulator, a real Temporal server, and a real worker of
// this project pointed at the simulator.

import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { HOUR_MS } from '../../src/amplitude/time.ts';
import { type ConnectionConfig, parseConfig, syncSettings } from '../../src/config.ts';
import type { NamedConnection } from '../../src/connections.ts';
import {
  DEFAULT_CREDENTIALS,
  type Simulator,
  type SimulatorOptions,
  startSimulator,
} from '../../src/simulator/index.ts';
import { type AmplitudeWorker, type AmplitudeWorkerOptions, createWorker } from '../../src/worker.ts';
import type { SyncSettings, Tuning } from '../../src/workflows/types.ts';

let queues = 0;

export function uniqueTaskQueue(name: string): string {
  return `${name}-${process.pid}-${++queues}`;
}

export async function temporaryDirectory(prefix = 'amplitude-sync-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

/** A connection config holding the simulator's keys of `region`. */
export function simulatorConfig(
  startDate: number,
  overrides: Record<string, unknown> = {},
  region: 'standard' | 'eu' = 'standard',
): ConnectionConfig {
  const credentials = DEFAULT_CREDENTIALS[region];
  return parseConfig(
    {
      api_key: credentials.apiKey,
      secret_key: credentials.secretKey,
      start_date: new Date(startDate).toISOString(),
      ...(region === 'eu' ? { data_region: 'EU Residency Server' } : {}),
      ...overrides,
    },
    {},
  );
}

/** Test tuning: short retries so failures surface in seconds. */
export const FAST_TUNING: Partial<Tuning> = {
  notFoundRetryDelayMs: 200,
  hourTimeoutRetryMs: 100,
  retryInitialIntervalMs: 100,
  exportHeartbeatTimeoutMs: 10_000,
  maximumAttempts: 4,
};

export function settingsFor(config: ConnectionConfig, tuning: Partial<Tuning> = FAST_TUNING): SyncSettings {
  return { ...syncSettings(config), tuning };
}

export async function workerFor(
  env: TestWorkflowEnvironment,
  sim: Simulator,
  config: ConnectionConfig,
  taskQueue: string,
  http: AmplitudeWorkerOptions['http'] = {},
  /** Several connections by name instead of `config` alone. */
  connections?: NamedConnection[],
): Promise<AmplitudeWorker> {
  return createWorker({
    connection: env.nativeConnection,
    taskQueue,
    ...(connections ? { connections } : { config }),
    regionBaseUrls: { 'Standard Server': sim.urls.standard, 'EU Residency Server': sim.urls.eu },
    http,
    // Tests count requests: a heartbeat that arrives late would make Temporal retry a healthy attempt.
    heartbeatFlushMs: 100,
  });
}

/**
 * A simulator for syncs on the real clock (dev server, command line): its clock runs half an hour
 * ahead, so every hour a sync considers old enough is already exportable.
 */
export function startSimulatorOnRealClock(options: Omit<SimulatorOptions, 'now'>): Promise<Simulator> {
  return startSimulator({ ...options, now: Date.now() + HOUR_MS / 2 });
}

export type { Simulator, SimulatorOptions };
export { startSimulator };
