// Where a sync's incremental state comes from. Pure: shared by the workflow and the command line.
import type { StreamName } from '../amplitude/streams.ts';
import type { StreamState, SyncState } from './types.ts';

/** The state inside a sync result, or inside the details of a failed sync. */
export function carriedState(value: unknown): SyncState | undefined {
  const state = (value as { state?: SyncState } | undefined)?.state;
  return state && typeof state === 'object' && state.streams && typeof state.streams === 'object'
    ? state
    : undefined;
}

function later(a: StreamState | undefined, b: StreamState | undefined): StreamState | undefined {
  if (!a || !b) return a ?? b;
  return Date.parse(a.completeBefore) >= Date.parse(b.completeBefore) ? a : b;
}

/** Per stream, the further of two states: progress only moves forward. */
export function furthest(...states: Array<SyncState | undefined>): SyncState {
  const streams: SyncState['streams'] = {};
  for (const state of states) {
    for (const [name, stream] of Object.entries(state?.streams ?? {}) as Array<[StreamName, StreamState]>) {
      const kept = later(streams[name], stream);
      if (kept) streams[name] = kept;
    }
  }
  return { streams };
}

/** The details a failed sync carries: its result so far. */
export function failureDetailsState(failure: unknown): SyncState | undefined {
  const details = (failure as { details?: unknown[] } | undefined)?.details;
  return carriedState(details?.[0]);
}
