import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DAY_MS, HOUR_MS, isoInstant } from '../src/amplitude/time.ts';
import {
  addToRecheck,
  planRecheck,
  type RecheckReport,
  recheckProblems,
  recordAnswer,
  requestsFor,
  unionRecheck,
} from '../src/workflows/recheck.ts';

const T0 = Date.UTC(2024, 2, 1);
const h = (n: number) => T0 + n * HOUR_MS;
const entry = (start: number, end: number, expires: number) => ({
  start: isoInstant(h(start)),
  end: isoInstant(h(end)),
  expires: isoInstant(expires),
});

describe('the re-check list of hours Amplitude answered 404 for', () => {
  it('keeps ranges, not hours: touching ranges join and the later expiry wins', () => {
    let list = addToRecheck(undefined, { start: h(2), end: h(5) }, h(200));
    list = addToRecheck(list, { start: h(5), end: h(7) }, h(300));
    list = addToRecheck(list, { start: h(10), end: h(11) }, h(300));
    assert.deepEqual(list, [entry(2, 7, h(300)), entry(10, 11, h(300))]);
  });

  it('a range asked again keeps its first expiry: only new hours get a new one', () => {
    const list = addToRecheck([entry(2, 5, h(100))], { start: h(0), end: h(6) }, h(500));
    assert.deepEqual(list, [entry(0, 6, h(500))], 'joined (the later expiry wins for a joined range)');
    const same = addToRecheck([entry(2, 5, h(100))], { start: h(2), end: h(5) }, h(500));
    assert.deepEqual(same, [entry(2, 5, h(100))], 'asked again, still 404: the expiry does not move');
  });

  it('at the start of a sync: expired ranges leave, one request per contiguous range before the sync’s own windows', () => {
    const plannedAt = h(100);
    const { report, asks } = planRecheck(
      [entry(0, 3, h(50)), entry(10, 14, h(120)), entry(16, 17, h(120)), entry(90, 95, h(130))],
      plannedAt,
      h(92),
    );
    assert.deepEqual(report.expired, [`${isoInstant(h(0))}/${isoInstant(h(3))}`]);
    assert.deepEqual(
      asks,
      [
        { start: h(10), end: h(14) },
        { start: h(16), end: h(17) },
        { start: h(90), end: h(92) },
      ],
      'hours from the range start on are read by the sync’s own windows',
    );
    assert.equal(report.pending.length, 3);
  });

  it('an answer: data found for listed hours is recovered; a served window leaves the list; a 404 joins it', () => {
    let report: RecheckReport = { pending: [entry(10, 14, h(120))], recovered: [], expired: [] };
    report = recordAnswer(
      report,
      { start: h(10), end: h(14) },
      { notFound: false, hoursWritten: [{ start: h(11), end: h(13) }] },
      h(100),
      DAY_MS,
    );
    assert.deepEqual(report.pending, []);
    assert.deepEqual(report.recovered, [`${isoInstant(h(11))}/${isoInstant(h(13))}`]);
    report = recordAnswer(
      report,
      { start: h(30), end: h(54) },
      { notFound: true, hoursWritten: [] },
      h(100),
      DAY_MS,
    );
    assert.deepEqual(report.pending, [entry(30, 54, h(100) + DAY_MS)]);
  });

  it('a list from outside is checked; a year-long range is asked in requests of at most 365 days', () => {
    assert.deepEqual(recheckProblems([entry(0, 2, h(9))]), []);
    assert.equal(
      recheckProblems([{ start: '2024-03-01T00:30:00Z', end: '2024-03-01T02:00:00Z', expires: 'x' }]).length,
      1,
    );
    assert.equal(recheckProblems('nope').length, 1);
    assert.equal(requestsFor({ start: h(0), end: h(0) + 400 * DAY_MS }).length, 2);
    assert.deepEqual(unionRecheck([entry(0, 2, h(9))], [entry(1, 4, h(20))]), [entry(0, 4, h(20))]);
  });
});
