import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY_MS, HOUR_MS, isoDate, isoHour } from '../src/amplitude/time.ts';
import {
  contiguousEnd,
  exportRange,
  planDashboardSlices,
  planExportWindows,
  type Span,
  splitWindow,
} from '../src/workflows/plan.ts';

const hour = (iso: string) => Date.parse(`${iso}:00:00Z`);
const day = (iso: string) => Date.parse(`${iso}T00:00:00Z`);
const hours = (spans: Span[]) => spans.map((s) => `${isoHour(s.start)}..${isoHour(s.end)}`);
const days = (spans: Span[]) => spans.map((s) => `${isoDate(s.start)}..${isoDate(s.end)}`);

describe('export windows', () => {
  const base = { lookbackHours: 6, windowHours: 24 };

  it('a first sync reads from start_date to the last hour old enough, in day-aligned windows', () => {
    const windows = planExportWindows({
      ...base,
      startDate: hour('2024-03-01T05'),
      closeBefore: hour('2024-03-03T10') + 20 * 60_000,
    });
    assert.deepEqual(hours(windows), [
      '2024-03-01T05..2024-03-02T00',
      '2024-03-02T00..2024-03-03T00',
      '2024-03-03T00..2024-03-03T10',
    ]);
  });

  it('a later sync starts from the watermark minus the lookback', () => {
    const range = exportRange({
      ...base,
      startDate: hour('2024-03-01T00'),
      completeBefore: hour('2024-03-03T10'),
      closeBefore: hour('2024-03-03T15'),
    });
    assert.deepEqual(hours([range]), ['2024-03-03T04..2024-03-03T15']);
  });

  it('the lookback never reaches before start_date', () => {
    const range = exportRange({
      ...base,
      startDate: hour('2024-03-03T08'),
      completeBefore: hour('2024-03-03T10'),
      closeBefore: hour('2024-03-03T12'),
    });
    assert.equal(isoHour(range.start), '2024-03-03T08');
  });

  it('a start_date in the future plans nothing', () => {
    assert.deepEqual(
      planExportWindows({ ...base, startDate: hour('2030-01-01T00'), closeBefore: hour('2024-03-03T12') }),
      [],
    );
  });

  it('windows of request_time_range hours line up on multiples of that size', () => {
    const windows = planExportWindows({
      lookbackHours: 0,
      windowHours: 6,
      startDate: hour('2024-03-01T04'),
      closeBefore: hour('2024-03-01T20'),
    });
    assert.deepEqual(hours(windows), [
      '2024-03-01T04..2024-03-01T06',
      '2024-03-01T06..2024-03-01T12',
      '2024-03-01T12..2024-03-01T18',
      '2024-03-01T18..2024-03-01T20',
    ]);
  });

  it('splits a window in halves down to single hours', () => {
    const [a, b] = splitWindow({ start: hour('2024-03-01T00'), end: hour('2024-03-02T00') });
    assert.deepEqual(hours([a, b]), ['2024-03-01T00..2024-03-01T12', '2024-03-01T12..2024-03-02T00']);
    const [c, d] = splitWindow({ start: hour('2024-03-01T00'), end: hour('2024-03-01T03') });
    assert.deepEqual(hours([c, d]), ['2024-03-01T00..2024-03-01T01', '2024-03-01T01..2024-03-01T03']);
    assert.throws(() => splitWindow({ start: 0, end: HOUR_MS }), /cannot be split/);
  });

  it('the watermark moves only over a contiguous run of completed windows', () => {
    const from = hour('2024-03-01T00');
    const done = (a: string, b: string) => ({ start: hour(a), end: hour(b) });
    assert.equal(contiguousEnd(from, []), from);
    assert.equal(
      contiguousEnd(from, [done('2024-03-01T12', '2024-03-02T00'), done('2024-03-01T00', '2024-03-01T12')]),
      hour('2024-03-02T00'),
    );
    assert.equal(
      contiguousEnd(from, [done('2024-03-01T00', '2024-03-01T06'), done('2024-03-01T12', '2024-03-02T00')]),
      hour('2024-03-01T06'),
      'a gap (a failed or still-open window) stops the watermark',
    );
  });
});

describe('dashboard slices', () => {
  it('cuts complete days into calendar months', () => {
    const slices = planDashboardSlices({
      startDay: day('2024-01-20'),
      lookbackDays: 3,
      firstIncompleteDay: day('2024-03-05'),
    });
    assert.deepEqual(days(slices), [
      '2024-01-20..2024-02-01',
      '2024-02-01..2024-03-01',
      '2024-03-01..2024-03-05',
    ]);
  });

  it('re-reads the lookback and always rewrites a month from its first day', () => {
    const slices = planDashboardSlices({
      startDay: day('2024-01-01'),
      completeBefore: day('2024-03-02'),
      lookbackDays: 3,
      firstIncompleteDay: day('2024-03-09'),
    });
    assert.deepEqual(days(slices), ['2024-02-01..2024-03-01', '2024-03-01..2024-03-09']);
  });

  it('plans nothing when no day has ended since start_date', () => {
    const today = day('2024-03-05');
    assert.deepEqual(
      planDashboardSlices({ startDay: today, lookbackDays: 3, firstIncompleteDay: today }),
      [],
    );
    assert.deepEqual(
      planDashboardSlices({ startDay: today + 30 * DAY_MS, lookbackDays: 3, firstIncompleteDay: today }),
      [],
    );
  });
});
