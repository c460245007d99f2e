// Where a sync's incremental state comes from. Pure: shared by the workflow and the command line.
import { ApplicationFailure } from '@temporalio/common';
import { isStreamName, STREAM_NAMES, STREAMS, type StreamName } from '../amplitude/streams.ts';
import { parseIsoDate } from '../amplitude/time.ts';
import { recheckProblems, unionRecheck } from './recheck.ts';
import type { StreamState, SyncInput, SyncState } from './types.ts';

/** The state inside a sync result, or inside the details of a failed sync. */
export function carriedState(value: unknown): SyncState | undefined {
  const state = (value as { state?: SyncState } | undefined)?.state;
  return state && typeof state === 'object' && state.streams && typeof state.streams === 'object'
    ? state
    : undefined;
}

/** The further of two states of a stream; the hours either still has to re-check are kept. */
function later(a: StreamState | undefined, b: StreamState | undefined): StreamState | undefined {
  if (!a || !b) return a ?? b;
  const further = Date.parse(a.completeBefore) >= Date.parse(b.completeBefore) ? a : b;
  if (!a.recheck && !b.recheck) return further;
  return { completeBefore: further.completeBefore, recheck: unionRecheck(a.recheck, b.recheck) };
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

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** What is wrong with a state given from outside (a file, the Temporal UI); empty when it is usable. */
export function stateProblems(value: unknown): string[] {
  const streams = (value as { streams?: unknown } | undefined)?.streams;
  if (typeof streams !== 'object' || streams === null || Array.isArray(streams)) {
    return ['a state is {"streams": {"<stream>": {"completeBefore": "..."}}}'];
  }
  const problems: string[] = [];
  for (const [name, stream] of Object.entries(streams)) {
    const cursor = (stream as { completeBefore?: unknown } | null)?.completeBefore;
    if (!isStreamName(name)) {
      problems.push(`"${name}" is not a stream (streams: ${STREAM_NAMES.join(', ')})`);
    } else if (STREAMS[name].kind === 'snapshot') {
      problems.push(`${name} is a full-refresh stream and has no state`);
    } else if (typeof cursor !== 'string') {
      problems.push(`${name}: completeBefore is missing`);
    } else if (
      STREAMS[name].kind === 'export' &&
      !(INSTANT.test(cursor) && !Number.isNaN(Date.parse(cursor)))
    ) {
      problems.push(`${name}: completeBefore "${cursor}" is not a UTC time like 2024-03-01T09:00:00Z`);
    } else if (STREAMS[name].kind === 'dashboard' && parseIsoDate(cursor) === undefined) {
      problems.push(`${name}: completeBefore "${cursor}" is not a date like 2024-03-01`);
    }
    const recheck = (stream as { recheck?: unknown } | null)?.recheck;
    if (recheck !== undefined && name !== 'events') problems.push(`${name}: only events has a recheck list`);
    else problems.push(...recheckProblems(recheck).map((problem) => `${name}: ${problem}`));
  }
  return problems;
}

function usable(state: SyncState, what: string, fix: string): SyncState {
  const problems = stateProblems(state);
  if (problems.length > 0) {
    throw ApplicationFailure.create({
      type: 'InvalidState',
      nonRetryable: true,
      message: `the ${what} is unusable: ${problems.join('; ')}. ${fix}`,
    });
  }
  return state;
}

/**
 * The state a sync starts from: explicit input; else, per stream, the furthest of what the previous
 * scheduled run left (its result, or the progress a failed run kept in its failure) and the state the
 * schedule was created with; else nothing (start_date).
 */
export function startingState(input: SyncInput, lastResult: unknown, lastFailure: unknown): SyncState {
  if (input.fullRefresh) return { streams: {} };
  if (input.state) {
    return usable(
      input.state,
      'state given to this sync',
      'Give the state a previous sync returned (or its manifest), or run a full refresh.',
    );
  }
  const initial =
    input.initialState &&
    usable(
      input.initialState,
      'initial state of this schedule',
      'Create the schedule again (amplitude-sync schedule --delete, then schedule --every ...).',
    );
  return furthest(carriedState(lastResult), failureDetailsState(lastFailure), initial);
}
