import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { startingState, stateProblems } from '../src/workflows/state.ts';
import type { SyncInput, SyncSettings, SyncState } from '../src/workflows/types.ts';

const settings = {} as SyncSettings;
const events = (completeBefore: string): SyncState => ({ streams: { events: { completeBefore } } });
const resultWith = (state: SyncState) => ({ state, streams: {}, manifest: 'm.json' });
const failureWith = (state: SyncState) => ({ details: [resultWith(state)] });

function assertInvalidState(fn: () => unknown, pattern: RegExp) {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof ApplicationFailure);
    assert.equal(error.type, 'InvalidState');
    assert.equal(error.nonRetryable, true);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('the state a sync starts from', () => {
  it('is empty for a full refresh, whatever else is known', () => {
    const input: SyncInput = { settings, fullRefresh: true, state: events('2024-03-02T00:00:00Z') };
    assert.deepEqual(startingState(input, resultWith(events('2024-03-05T00:00:00Z')), undefined), {
      streams: {},
    });
  });

  it('is the explicit state when one is given, even behind the previous run', () => {
    const input: SyncInput = { settings, state: events('2024-03-02T00:00:00Z') };
    assert.deepEqual(
      startingState(input, resultWith(events('2024-03-05T00:00:00Z')), undefined),
      events('2024-03-02T00:00:00Z'),
    );
  });

  it('refuses an explicit or initial state it cannot use, naming the problem', () => {
    assertInvalidState(
      () => startingState({ settings, state: events('yesterday') }, undefined, undefined),
      /state given to this sync is unusable: events: completeBefore "yesterday" is not a UTC time/,
    );
    assertInvalidState(
      () =>
        startingState(
          {
            settings,
            initialState: { streams: { sessions: { completeBefore: '2024-03-01' } } } as SyncState,
          },
          undefined,
          undefined,
        ),
      /initial state of this schedule is unusable: "sessions" is not a stream/,
    );
  });

  it("is the previous scheduled run's result, or the progress a failed run kept, whichever is further", () => {
    const input: SyncInput = { settings };
    assert.deepEqual(
      startingState(input, resultWith(events('2024-03-05T00:00:00Z')), undefined),
      events('2024-03-05T00:00:00Z'),
    );
    assert.deepEqual(
      startingState(
        input,
        resultWith(events('2024-03-05T00:00:00Z')),
        failureWith(events('2024-03-06T00:00:00Z')),
      ),
      events('2024-03-06T00:00:00Z'),
    );
  });

  it("uses the schedule's initial state per stream, until a run got further", () => {
    const initialState: SyncState = {
      streams: {
        events: { completeBefore: '2024-03-03T00:00:00Z' },
        active_users: { completeBefore: '2024-03-03' },
      },
    };
    assert.deepEqual(startingState({ settings, initialState }, undefined, undefined), initialState);
    assert.deepEqual(
      startingState({ settings, initialState }, resultWith(events('2024-03-05T00:00:00Z')), undefined),
      {
        streams: {
          events: { completeBefore: '2024-03-05T00:00:00Z' },
          active_users: { completeBefore: '2024-03-03' },
        },
      },
    );
  });

  it('is empty (start_date) when nothing is known', () => {
    assert.deepEqual(startingState({ settings }, undefined, undefined), { streams: {} });
    assert.deepEqual(startingState({ settings }, { unrelated: true }, { details: [] }), { streams: {} });
  });
});

describe('states given from outside', () => {
  it('are usable when every stream has a cursor of its kind', () => {
    assert.deepEqual(
      stateProblems({
        streams: {
          events: { completeBefore: '2024-03-01T09:00:00Z' },
          average_session_length: { completeBefore: '2024-03-01' },
        },
      }),
      [],
    );
  });

  it('name every problem: unknown stream, snapshot stream, missing or malformed cursor', () => {
    assert.deepEqual(
      stateProblems({
        streams: {
          sessions: {},
          cohorts: { completeBefore: '2024-03-01' },
          events: { completeBefore: '2024-03-01 09:00:00' },
          active_users: { completeBefore: '1 March' },
          average_session_length: {},
        },
      }),
      [
        '"sessions" is not a stream (streams: events, active_users, average_session_length, annotations, cohorts, events_list)',
        'cohorts is a full-refresh stream and has no state',
        'events: completeBefore "2024-03-01 09:00:00" is not a UTC time like 2024-03-01T09:00:00Z',
        'active_users: completeBefore "1 March" is not a date like 2024-03-01',
        'average_session_length: completeBefore is missing',
      ],
    );
    assert.deepEqual(stateProblems([]), ['a state is {"streams": {"<stream>": {"completeBefore": "..."}}}']);
  });
});
