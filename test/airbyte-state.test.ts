// Airbyte's source-amplitude state, in each of the shapes Airbyte stores it, read as ours.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromAirbyteState } from '../src/workflows/airbyte-state.ts';

const perStream = [
  {
    type: 'STREAM',
    stream: {
      stream_descriptor: { name: 'events' },
      stream_state: { server_upload_time: '2026-12-02 06:59:10.965023' },
    },
  },
  {
    type: 'STREAM',
    stream: { stream_descriptor: { name: 'active_users' }, stream_state: { date: '2026-12-02' } },
  },
  {
    type: 'STREAM',
    stream: { stream_descriptor: { name: 'average_session_length' }, stream_state: { date: '2026-11-30' } },
  },
  { type: 'STREAM', stream: { stream_descriptor: { name: 'cohorts' }, stream_state: {} } },
];
const ours = {
  streams: {
    events: { completeBefore: '2026-12-02T06:00:00Z' },
    active_users: { completeBefore: '2026-12-02' },
    average_session_length: { completeBefore: '2026-11-30' },
  },
};

describe("Airbyte's state", () => {
  it('per-stream messages (a list, or one): the cursor hour or day is read again', () => {
    assert.deepEqual(fromAirbyteState(perStream), { state: ours, problems: [] });
    assert.deepEqual(fromAirbyteState(perStream[0]), {
      state: { streams: { events: ours.streams.events } },
      problems: [],
    });
  });

  it('the legacy object by stream name, bare or as data, and a global message', () => {
    const legacy = {
      events: { server_upload_time: '2026-12-02 06:59:10.965023' },
      active_users: { date: '2026-12-02' },
      average_session_length: { date: '2026-11-30' },
    };
    assert.deepEqual(fromAirbyteState(legacy), { state: ours, problems: [] });
    assert.deepEqual(fromAirbyteState({ type: 'LEGACY', data: legacy }), { state: ours, problems: [] });
    assert.deepEqual(
      fromAirbyteState({
        type: 'GLOBAL',
        global: { stream_states: perStream.map((message) => message.stream) },
      }),
      { state: ours, problems: [] },
    );
  });

  it('cursors as Airbyte may write them: whole seconds, RFC 3339 with an offset, a date with a time', () => {
    const one = (state: Record<string, unknown>) => fromAirbyteState(state)?.state.streams;
    assert.deepEqual(one({ events: { server_upload_time: '2026-12-02 07:00:00' } })?.events, {
      completeBefore: '2026-12-02T07:00:00Z',
    });
    assert.deepEqual(one({ events: { server_upload_time: '2026-12-02T08:30:00+02:00' } })?.events, {
      completeBefore: '2026-12-02T06:00:00Z',
    });
    assert.deepEqual(one({ active_users: { date: '2026-12-02T00:00:00' } })?.active_users, {
      completeBefore: '2026-12-02',
    });
  });

  it('names what it cannot read, and leaves other documents alone', () => {
    assert.deepEqual(
      fromAirbyteState({ events: { server_upload_time: 'yesterday' }, sessions: { date: '2026-12-01' } })
        ?.problems,
      [
        'Airbyte state of events: server_upload_time "yesterday" is not a time Airbyte writes',
        'Airbyte state of "sessions": not a stream of source-amplitude',
      ],
    );
    assert.equal(
      fromAirbyteState({ streams: { events: { completeBefore: '2026-12-02T06:00:00Z' } } }),
      undefined,
    );
    assert.equal(fromAirbyteState([1, 2]), undefined);
    assert.equal(fromAirbyteState('text'), undefined);
  });
});
