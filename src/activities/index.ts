// Activities are built once per worker around the dependencies it owns (the Amplitude client and its
// credentials); workflow code only ever sees their types.
import { heartbeat } from '@temporalio/activity';
import type { AmplitudeClient } from '../amplitude/client.ts';
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
  prepareDestination,
  removeLeftovers,
} from './housekeeping.ts';
import { type ManifestInput, writeManifest } from './manifest.ts';
import { type ReconcileInput, reconcileCounts } from './reconcile.ts';

export interface ActivityDeps {
  amplitude: AmplitudeClient;
  destination: OpenDestination;
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

export function createActivities(deps: ActivityDeps) {
  const io = { amplitude: deps.amplitude, destination: deps.destination };
  return {
    checkConnection: heartbeating(() => checkConnection(deps.amplitude)),
    exportWindow: (input: ExportWindowInput) => exportWindow(io, input),
    fetchDashboardSlice: heartbeating((input: DashboardSliceInput) => fetchDashboardSlice(io, input)),
    fetchSnapshot: heartbeating((input: SnapshotInput) => fetchSnapshot(io, input)),
    writeManifest: heartbeating((input: ManifestInput) => writeManifest(io, input)),
    checkDestination: heartbeating((input: DestinationInput) => checkDestination(io, input)),
    prepareDestination: heartbeating((input: DestinationInput) => prepareDestination(io, input)),
    removeLeftovers: heartbeating((input: DestinationInput) => removeLeftovers(io, input)),
    reconcileCounts: heartbeating((input: ReconcileInput) => reconcileCounts(io, input)),
  };
}

export type Activities = ReturnType<typeof createActivities>;
