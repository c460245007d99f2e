// Airbyte's source-amplitude state, as its users have it, translated into ours so that they can move
// over without reading years of events again. Airbyte's cursors are the newest record it emitted
// (events: server_upload_time; active_users and average_session_length: date); everything before
// that record's hour (day) is complete, so ours starts there and reads that hour (day) again, plus the
// usual lookback. Snapshots have no state. Accepted: per-stream state messages (a list, or one),
// a global state message, and the legacy object of states by stream name (bare or as `data`).
// The state `read` emits (toAirbyteStreamState) carries Airbyte's cursor and, beside it, ours
// (`amplitude_sync`: the exact watermark and the 404 re-check list), which wins when present.
import { isStreamName, STREAMS, type StreamName } from '../amplitude/streams.ts';
import { DAY_MS, isoDate, isoHour, parseIsoDate } from '../amplitude/time.ts';
import { carriedState, stateProblems } from './state.ts';
import type { StreamState, SyncState } from './types.ts';

/** The key of our own cursor inside an Airbyte stream state. */
export const OWN_CURSOR = 'amplitude_sync';

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `2026-12-02 06:59:10.965023` (UTC) or an ISO time -> the start of its hour, or undefined. */
function hourStart(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}):\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(
    value.trim(),
  );
  if (!match) return undefined;
  const ms = Date.parse(`${match[1]}T${match[2]}:00:00${match[5] && match[5] !== 'Z' ? match[5] : 'Z'}`);
  return Number.isNaN(ms) ? undefined : `${isoHour(ms)}:00:00Z`;
}

/** `2026-12-02` (or a time on that day) -> `2026-12-02`, or undefined. */
function day(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4}-\d{2}-\d{2})([ T].*)?$/.exec(value.trim());
  return match && !Number.isNaN(Date.parse(`${match[1]}T00:00:00Z`)) ? match[1] : undefined;
}

/**
 * Per stream name, its Airbyte stream state, from any of Airbyte's state shapes (possibly none: an
 * empty list, a global state without streams); undefined when `value` is not an Airbyte state.
 */
function streamStates(value: unknown): Map<string, unknown> | undefined {
  const messages = Array.isArray(value) ? value : [value];
  const states = new Map<string, unknown>();
  for (const message of messages) {
    if (!isObject(message)) return undefined;
    const stream = message.stream;
    const global = message.global;
    if (message.type === 'STREAM' || isObject(stream)) {
      const name =
        (isObject(stream) && isObject(stream.stream_descriptor) && stream.stream_descriptor.name) ||
        undefined;
      if (typeof name !== 'string' || !isObject(stream)) return undefined;
      states.set(name, stream.stream_state);
    } else if (message.type === 'GLOBAL' || isObject(global)) {
      if (!isObject(global)) return undefined;
      for (const entry of Array.isArray(global.stream_states) ? global.stream_states : []) {
        const name =
          isObject(entry) && isObject(entry.stream_descriptor) ? entry.stream_descriptor.name : undefined;
        if (typeof name !== 'string' || !isObject(entry)) return undefined;
        states.set(name, entry.stream_state);
      }
    } else if (message.type === 'LEGACY' || isObject(message.data)) {
      if (message.data === null || message.data === undefined) continue;
      if (!isObject(message.data)) return undefined;
      for (const [name, state] of Object.entries(message.data)) states.set(name, state);
    } else {
      // The legacy object by stream name, bare: one of its keys must be a stream's.
      const names = Object.keys(message);
      if (names.length > 0 && !names.some(isStreamName)) return undefined;
      for (const [name, state] of Object.entries(message)) states.set(name, state);
    }
  }
  return states;
}

/**
 * Our state for an Airbyte state, or undefined when `value` is not one. A stream without a cursor
 * (reset, full refresh, the CDK's markers) has no state; problems (an unknown stream, a cursor that
 * is not a time) are returned to be named, never guessed around.
 */
export function fromAirbyteState(value: unknown): { state: SyncState; problems: string[] } | undefined {
  const states = streamStates(value);
  if (!states) return undefined;
  const state: SyncState = { streams: {} };
  const problems: string[] = [];
  for (const [name, streamState] of states) {
    if (!isStreamName(name)) {
      problems.push(`Airbyte state of "${name}": not a stream of source-amplitude`);
      continue;
    }
    const kind = STREAMS[name as StreamName].kind;
    if (kind === 'snapshot' || streamState === null || streamState === undefined) continue;
    if (!isObject(streamState)) {
      problems.push(`Airbyte state of ${name}: ${JSON.stringify(streamState)} is not a stream state object`);
      continue;
    }
    const own = streamState[OWN_CURSOR];
    if (own !== undefined) {
      const ownProblems = stateProblems({ streams: { [name]: own } });
      if (ownProblems.length === 0) state.streams[name as StreamName] = own as StreamState;
      else problems.push(...ownProblems.map((problem) => `Airbyte state's ${OWN_CURSOR} of ${problem}`));
      continue;
    }
    const field = kind === 'export' ? 'server_upload_time' : 'date';
    if (!(field in streamState)) continue;
    const cursor = kind === 'export' ? hourStart(streamState[field]) : day(streamState[field]);
    if (!cursor) {
      problems.push(
        `Airbyte state of ${name}: ${field} ${JSON.stringify(streamState[field])} is not a time Airbyte writes`,
      );
      continue;
    }
    state.streams[name as StreamName] = { completeBefore: cursor };
  }
  return { state, problems };
}

/**
 * Our stream state as Airbyte's source-amplitude writes its own (events: `server_upload_time`, the
 * time before which everything was emitted; dashboards: `date`, the last complete day), with ours
 * beside it. Airbyte's connector reads it as its own; we read ours back exactly.
 */
export function toAirbyteStreamState(stream: StreamName, state: StreamState): Record<string, unknown> {
  const kind = STREAMS[stream].kind;
  const airbyteCursor =
    kind === 'export'
      ? {
          server_upload_time: `${state.completeBefore.slice(0, 10)} ${state.completeBefore.slice(11, 19)}.000000`,
        }
      : { date: isoDate(parseIsoDate(state.completeBefore)! - DAY_MS) };
  return { ...airbyteCursor, [OWN_CURSOR]: state };
}

/**
 * A state as people give it (`--state`): ours, a sync result or manifest that carries one, or any of
 * Airbyte's; `fromAirbyte` says which, and `problems` name what cannot be used.
 */
export function givenState(value: unknown): {
  state: SyncState | undefined;
  problems: string[];
  fromAirbyte: boolean;
} {
  const airbyte = fromAirbyteState(value);
  const state = carriedState(value) ?? carriedState({ state: value }) ?? airbyte?.state;
  return {
    state,
    problems: [...(airbyte?.problems ?? []), ...stateProblems(state ?? value)],
    fromAirbyte: airbyte !== undefined,
  };
}
