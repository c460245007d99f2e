// Airbyte's source-amplitude state, in each of the shapes Airbyte stores it, read as ours.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromAirbyteState, toAirbyteStreamState } from '../src/workflows/airbyte-state.ts';

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
  // Airbyte's full-refresh streams: no state, or the CDK's markers; nothing to carry.
  { type: 'STREAM', stream: { stream_descriptor: { name: 'cohorts' }, stream_state: {} } },
  {
    type: 'STREAM',
    stream: {
      stream_descriptor: { name: 'annotations' },
      stream_state: { __ab_no_cursor_state_message: true },
    },
  },
  {
    type: 'STREAM',
    stream: {
      stream_descriptor: { name: 'events_list' },
      stream_state: { __ab_full_refresh_sync_complete: true },
    },
  },
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

  it("the state read emits: Airbyte's cursor beside ours, which reads back exactly, re-check list included", () => {
    const events = {
      completeBefore: '2026-12-02T07:00:00Z',
      recheck: [
        { start: '2026-12-01T03:00:00Z', end: '2026-12-01T04:00:00Z', expires: '2026-12-08T04:00:00Z' },
      ],
    };
    const emitted = [
      {
        type: 'STREAM',
        stream: {
          stream_descriptor: { name: 'events' },
          stream_state: toAirbyteStreamState('events', events),
        },
      },
      {
        type: 'STREAM',
        stream: {
          stream_descriptor: { name: 'active_users' },
          stream_state: toAirbyteStreamState('active_users', { completeBefore: '2026-12-02' }),
        },
      },
    ];
    assert.equal(emitted[0]!.stream.stream_state.server_upload_time, '2026-12-02 07:00:00.000000');
    assert.equal(
      emitted[1]!.stream.stream_state.date,
      '2026-12-01',
      'the last complete day, as Airbyte writes it',
    );
    assert.deepEqual(fromAirbyteState(emitted), {
      state: { streams: { events, active_users: { completeBefore: '2026-12-02' } } },
      problems: [],
    });
    // Without ours (as Airbyte's connector would keep it), Airbyte's cursor alone starts at the same hour.
    const airbyteOnly = {
      events: { server_upload_time: emitted[0]!.stream.stream_state.server_upload_time },
    };
    assert.deepEqual(fromAirbyteState(airbyteOnly)?.state.streams.events, {
      completeBefore: events.completeBefore,
    });
    assert.match(
      fromAirbyteState({
        events: { server_upload_time: '2026-12-02 07:00:00', amplitude_sync: { completeBefore: 'soon' } },
      })!.problems[0]!,
      /amplitude_sync of events: completeBefore "soon" is not a UTC time/,
    );
  });

  it('a state without cursors (empty, reset streams, full-refresh markers, a global state without streams) is no state', () => {
    const none = { state: { streams: {} }, problems: [] };
    assert.deepEqual(fromAirbyteState([]), none);
    assert.deepEqual(fromAirbyteState(perStream.slice(3)), none, "the CDK's markers alone");
    assert.deepEqual(
      fromAirbyteState([
        { type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: null } },
      ]),
      none,
    );
    assert.deepEqual(
      fromAirbyteState({ events: {}, active_users: { __ab_no_cursor_state_message: true } }),
      none,
    );
    assert.deepEqual(fromAirbyteState({ type: 'GLOBAL', global: { shared_state: {} } }), none);
    assert.deepEqual(fromAirbyteState({ type: 'LEGACY', data: null }), none);
    assert.deepEqual(fromAirbyteState({ events: 'x' })?.problems, [
      'Airbyte state of events: "x" is not a stream state object',
    ]);
  });
});
