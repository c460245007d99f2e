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
import { type ManifestInput, writeManifest } from './manifest.ts';

export interface ActivityDeps {
  amplitude: AmplitudeClient;
}

export function createActivities(deps: ActivityDeps) {
  const io = { amplitude: deps.amplitude, destination: (root: string) => new LocalDestination(root) };
  return {
    checkConnection: () => checkConnection(deps.amplitude),
    exportWindow: (input: ExportWindowInput) => exportWindow(io, input),
    fetchDashboardSlice: (input: DashboardSliceInput) => fetchDashboardSlice(io, input),
    fetchSnapshot: (input: SnapshotInput) => fetchSnapshot(io, input),
    writeManifest: (input: ManifestInput) => writeManifest(io, input),
  };
}

export type Activities = ReturnType<typeof createActivities>;
