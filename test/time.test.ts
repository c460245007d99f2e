import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  amplitudeTimestamp,
  amplitudeTimestampHour,
  amplitudeTimestampToRfc3339,
  dashboardDateParam,
  exportHourParam,
  isoHour,
  parseDashboardDateParam,
  parseExportHourParam,
  parseIsoDate,
} from '../src/amplitude/time.ts';

describe('Amplitude time formats', () => {
  it('formats and parses export hours as YYYYMMDDTHH in UTC', () => {
    const ms = Date.UTC(2024, 2, 1, 9);
    assert.equal(exportHourParam(ms), '20240301T09');
    assert.equal(parseExportHourParam('20240301T09'), ms);
    assert.equal(isoHour(ms), '2024-03-01T09');
  });

  it('rejects export hours that are malformed or not on the calendar', () => {
    for (const bad of ['20240301T9', '20240301T24', '20240230T00', '2024-03-01T09', '20240301']) {
      assert.equal(parseExportHourParam(bad), undefined, bad);
    }
  });

  it('formats and parses dashboard dates', () => {
    assert.equal(dashboardDateParam(Date.UTC(2024, 11, 31, 23)), '20241231');
    assert.equal(parseDashboardDateParam('20241231'), Date.UTC(2024, 11, 31));
    assert.equal(parseDashboardDateParam('20241331'), undefined);
    assert.equal(parseIsoDate('2024-02-29'), Date.UTC(2024, 1, 29));
    assert.equal(parseIsoDate('2023-02-29'), undefined);
  });

  it('writes event timestamps with six fractional digits and no zone, as Amplitude does', () => {
    const micros = Date.UTC(2024, 2, 1, 10, 14, 9) * 1000 + 377_001;
    assert.equal(amplitudeTimestamp(micros), '2024-03-01 10:14:09.377001');
  });

  it("rewrites event timestamps to RFC 3339 in UTC as Airbyte's connector does", () => {
    assert.equal(
      amplitudeTimestampToRfc3339('2024-03-01 10:14:09.377000'),
      '2024-03-01T10:14:09.377000+00:00',
    );
    assert.equal(amplitudeTimestampToRfc3339('2024-03-01 10:14:09'), '2024-03-01T10:14:09+00:00');
    assert.equal(amplitudeTimestampToRfc3339('2024-03-01 00:00:00.000000'), '2024-03-01T00:00:00+00:00');
    assert.equal(amplitudeTimestampToRfc3339('2024-03-01 10:14:09.5'), '2024-03-01T10:14:09.500000+00:00');
    assert.equal(amplitudeTimestampToRfc3339('2024-03-01T10:14:09Z'), undefined);
    assert.equal(amplitudeTimestampHour('2024-03-01 10:14:09.377000'), Date.UTC(2024, 2, 1, 10));
  });

  it('does not depend on the machine time zone', () => {
    // new Date('2024-03-01 10:14:09') would read local time; these helpers never do.
    assert.equal(amplitudeTimestampHour('2024-03-01 23:59:59.999999'), Date.UTC(2024, 2, 1, 23));
  });
});
