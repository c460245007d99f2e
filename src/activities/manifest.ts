// The per-sync manifest: every partition the sync wrote (gathered from the slices' receipts), record
// counts, and the state the sync ended with.
import { toFailure } from '../amplitude/errors.ts';
import type { Receipt } from '../destination/destination.ts';
import type { OpenDestination } from '../destination/open.ts';
import type { DestinationSpec } from '../destination/spec.ts';

export interface ManifestInput {
  runKey: string;
  destination: string | DestinationSpec;
  sync: { workflowId: string; runId: string; startedAt: string; finishedAt: string };
  state: unknown;
  streams: Record<string, unknown>;
  /** The count reconciliation's outcome, or why it could not run. */
  reconciliation?: unknown;
  /** What interrupted syncs of the connection had left and this sync removed. */
  leftoversRemoved?: unknown;
}

export interface ManifestResult {
  path: string;
  partitions: number;
  records: number;
}

export interface ManifestDeps {
  destination: OpenDestination;
}

function byStream(receipts: Receipt[]) {
  const streams: Record<
    string,
    { records: number; bytes: number; partitions: Receipt['partitions']; notes: string[] }
  > = {};
  for (const receipt of receipts) {
    streams[receipt.stream] ??= { records: 0, bytes: 0, partitions: [], notes: [] };
    const entry = streams[receipt.stream]!;
    for (const partition of receipt.partitions) {
      // A retried download can commit an hour again: the file was replaced, so it counts once.
      const earlier = entry.partitions.findIndex((known) => known.partition === partition.partition);
      if (earlier !== -1) {
        const [replaced] = entry.partitions.splice(earlier, 1);
        entry.records -= replaced!.records;
        entry.bytes -= replaced!.bytes;
      }
      entry.partitions.push(partition);
      entry.records += partition.records;
      entry.bytes += partition.bytes;
    }
    if (receipt.note) entry.notes.push(`${receipt.slice}: ${receipt.note}`);
    if (receipt.missingDays)
      entry.notes.push(`${receipt.slice}: Amplitude returned no value for ${receipt.missingDays.join(', ')}`);
  }
  for (const entry of Object.values(streams))
    entry.partitions.sort((a, b) => a.partition.localeCompare(b.partition));
  return streams;
}

export async function writeManifest(deps: ManifestDeps, input: ManifestInput): Promise<ManifestResult> {
  try {
    return await writeManifestOf(deps, input);
  } catch (error) {
    throw toFailure(error, 'writing the sync manifest');
  }
}

async function writeManifestOf(deps: ManifestDeps, input: ManifestInput): Promise<ManifestResult> {
  const destination = await deps.destination(input.destination, input.runKey);
  const written = byStream(await destination.readReceipts(input.runKey));
  const manifest = {
    sync: input.sync,
    state: input.state,
    ...(input.reconciliation ? { reconciliation: input.reconciliation } : {}),
    ...(input.leftoversRemoved ? { leftoversRemoved: input.leftoversRemoved } : {}),
    streams: Object.fromEntries(
      Object.entries(input.streams).map(([stream, summary]) => [
        stream,
        { summary, written: written[stream] ?? null },
      ]),
    ),
  };
  const path = await destination.writeManifest(input.runKey, manifest);
  const all = Object.values(written);
  return {
    path,
    partitions: all.reduce((sum, entry) => sum + entry.partitions.length, 0),
    records: all.reduce((sum, entry) => sum + entry.records, 0),
  };
}
