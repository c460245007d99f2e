import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemberOrder } from '../src/activities/export-events.ts';
import { memberStart } from '../src/amplitude/export-decoder.ts';
import { isoHour } from '../src/amplitude/time.ts';

const from = Date.UTC(2024, 3, 1, 0);
const member = (hour: number, partition: number) =>
  memberStart(`1/1_2024-04-01_${hour}#${partition}.json.gz`);

/** The commit boundaries a sequence of members proves. */
function boundaries(members: Array<[number, number]>, progressive = true): string[] {
  const order = new MemberOrder(from, progressive);
  return members.flatMap(([hour, partition]) => {
    const boundary = order.next(member(hour, partition));
    return boundary === undefined ? [] : [isoHour(boundary)];
  });
}

describe('when hours may be committed in the middle of a download', () => {
  it('an archive in order commits each hour once the next one begins', () => {
    assert.deepEqual(
      boundaries([
        [0, 0],
        [0, 1],
        [1, 3],
        [2, 0],
      ]),
      ['2024-04-01T01', '2024-04-01T02'],
    );
  });

  it('names sorted as text (0, 1, 10, ..., 2) stop early commits at the first jump', () => {
    assert.deepEqual(
      boundaries([
        [0, 0],
        [1, 0],
        [10, 0],
        [11, 0],
        [2, 0],
      ]),
      ['2024-04-01T01'],
    );
  });

  it('a first member that is not the first hour asked for, a repeated partition or a step back commit nothing early', () => {
    assert.deepEqual(
      boundaries([
        [1, 0],
        [2, 0],
      ]),
      [],
    );
    assert.deepEqual(
      boundaries([
        [0, 1],
        [0, 1],
        [1, 0],
      ]),
      [],
    );
    assert.deepEqual(
      boundaries([
        [0, 0],
        [1, 0],
        [0, 2],
        [2, 0],
      ]),
      ['2024-04-01T01'],
    );
  });

  it('a retry after Amplitude sent hours out of order commits only at the end', () => {
    assert.deepEqual(
      boundaries(
        [
          [0, 0],
          [1, 0],
          [2, 0],
        ],
        false,
      ),
      [],
    );
  });

  it('a member name not in Amplitude’s form stops early commits', () => {
    const order = new MemberOrder(from, true);
    assert.equal(order.next(memberStart('1/1_2024-04-01_0#0.json.gz')), undefined);
    assert.equal(order.next(memberStart('1/other.json.gz')), undefined);
    assert.equal(order.next(memberStart('1/1_2024-04-01_1#0.json.gz')), undefined);
  });
});
