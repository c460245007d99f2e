// Activities are built once per worker around the dependencies it owns (the Amplitude client and its
// credentials); workflow code only ever sees their types.
import type { AmplitudeClient } from '../amplitude/client.ts';
import { LocalDestination } from '../destination/local.ts';
import { checkConnection } from './check.ts';
import {
  type DashboardSliceInput,
  fetchDashboardSlice,
  fetchSnapshot,
  type SnapshotInput,
} from './dashboard.ts';
import { type ExportWindowInput, exportWindow } from './export-events.ts';
import { type DestinationInput, prepareDestination, removeLeftovers } from './housekeeping.ts';
import { type ManifestInput, writeManifest } from './manifest.ts';
import { type ReconcileInput, reconcileCounts } from './reconcile.ts';

export interface ActivityDeps {
  amplitude: AmplitudeClient;
}

export function createActivities(deps: ActivityDeps) {
  const io = {
    amplitude: deps.amplitude,
    destination: (root: string, runKey: string) => new LocalDestination(root, runKey),
  };
  return {
    checkConnection: () => checkConnection(deps.amplitude),
    exportWindow: (input: ExportWindowInput) => exportWindow(io, input),
    fetchDashboardSlice: (input: DashboardSliceInput) => fetchDashboardSlice(io, input),
    fetchSnapshot: (input: SnapshotInput) => fetchSnapshot(io, input),
    writeManifest: (input: ManifestInput) => writeManifest(io, input),
    prepareDestination: (input: DestinationInput) => prepareDestination(io, input),
    removeLeftovers: (input: DestinationInput) => removeLeftovers(io, input),
    reconcileCounts: (input: ReconcileInput) => reconcileCounts(io, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
