// Activities are built once per worker around the dependencies it owns (the Amplitude client and its
// credentials); workflow code only ever sees their types.
import { heartbeat } from '@temporalio/activity';
import type { ConnectionRegistry } from '../connections.ts';
import type { OpenDestination } from '../destination/open.ts';
import { checkConnection } from './check.ts';
import {
  type DashboardSliceInput,
  fetchDashboardSlice,
  fetchSnapshot,
  type SnapshotInput,
} from './dashboard.ts';
import { type ExportWindowInput, exportWindow } from './export-events.ts';
import {
  checkDestination,
  type DestinationInput,
  lastSyncState,
  prepareDestination,
  removeLeftovers,
  type StateInput,
} from './housekeeping.ts';
import { type ManifestInput, writeManifest } from './manifest.ts';
import { countExportWindow, countFailure, countWritten } from './metrics.ts';
import { type ReconcileInput, reconcileCounts } from './reconcile.ts';

export interface ActivityDeps {
  connections: ConnectionRegistry;
  destination: OpenDestination;
  /** Whether the search attributes of syncs are registered (search-attributes.ts), as found at start-up. */
  searchAttributes?: boolean;
}

/** Activities that talk to Amplitude name the connection whose credentials they use (unset: the only one). */
interface Scoped {
  connection?: string;
}

/** How often the short activities tell Temporal they are alive (their heartbeat timeout is 30 s). */
const HEARTBEAT_EVERY_MS = 5_000;

/**
 * A short activity that heartbeats while it runs: when its worker dies, Temporal retries it after the
 * heartbeat timeout (seconds) instead of its start-to-close timeout (minutes), so a sync whose command
 * was interrupted goes on at once when the next command attaches to it.
 */
function heartbeating<A extends unknown[], R>(run: (...args: A) => Promise<R>): (...args: A) => Promise<R> {
  return async (...args) => {
    const timer = setInterval(() => heartbeat(), HEARTBEAT_EVERY_MS);
    try {
      return await run(...args);
    } finally {
      clearInterval(timer);
    }
  };
}

/** Counts what a Dashboard or snapshot activity wrote, and its failed attempts. */
function measured<I extends Scoped & { stream: string }, R extends { records: number; bytes: number }>(
  run: (input: I) => Promise<R>,
): (input: I) => Promise<R> {
  return async (input) => {
    const connection = input.connection ?? 'default';
    try {
      const result = await run(input);
      countWritten(connection, input.stream, result.records, result.bytes);
      return result;
    } catch (error) {
      countFailure(connection, input.stream, error);
      throw error;
    }
  };
}

export function createActivities(deps: ActivityDeps) {
  const io = (input?: Scoped) => ({
    amplitude: deps.connections.amplitude(input?.connection),
    destination: deps.destination,
  });
  const files = { destination: deps.destination };
  return {
    resolveConnection: async (input: Scoped) => ({
      ...deps.connections.resolve(input.connection),
      searchAttributes: deps.searchAttributes ?? false,
    }),
    lastSyncState: heartbeating((input: StateInput) => lastSyncState(files, input)),
    checkConnection: heartbeating((input?: Scoped) => checkConnection(io(input).amplitude)),
    exportWindow: async (input: ExportWindowInput & Scoped) => {
      const connection = input.connection ?? 'default';
      try {
        const result = await exportWindow(io(input), input);
        countWritten(connection, 'events', result.records, result.bytes);
        countExportWindow(connection, result.status);
        return result;
      } catch (error) {
        countFailure(connection, 'events', error);
        throw error;
      }
    },
    fetchDashboardSlice: heartbeating(
      measured((input: DashboardSliceInput & Scoped) => fetchDashboardSlice(io(input), input)),
    ),
    fetchSnapshot: heartbeating(measured((input: SnapshotInput & Scoped) => fetchSnapshot(io(input), input))),
    writeManifest: heartbeating((input: ManifestInput) => writeManifest(files, input)),
    checkDestination: heartbeating((input: DestinationInput) => checkDestination(files, input)),
    prepareDestination: heartbeating((input: DestinationInput) => prepareDestination(files, input)),
    removeLeftovers: heartbeating((input: DestinationInput) => removeLeftovers(files, input)),
    reconcileCounts: heartbeating((input: ReconcileInput & Scoped) => reconcileCounts(io(input), input)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
