import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EVENT_TIMESTAMP_FIELDS,
  EventRecordError,
  normaliseEventLine,
  normaliseEvents,
} from '../src/amplitude/event-record.ts';
import { LineSplitter } from '../src/amplitude/export-decoder.ts';
import { amplitudeTimestampHour, amplitudeTimestampToRfc3339 } from '../src/amplitude/time.ts';
import { EventLineGenerator } from '../src/simulator/event-lines.ts';

const raw = (fields: Record<string, unknown>) => JSON.stringify(fields);

describe('event normalisation', () => {
  const event = {
    $insert_id: 'i-1',
    amplitude_id: 802211334455,
    client_event_time: '2024-03-01 10:14:07.512000',
    client_upload_time: '2024-03-01 10:14:09.004000',
    event_properties: { event_time: '2024-03-01 10:14:08.230000', note: 'emoji 🎉 and \u2028' },
    event_time: '2024-03-01 10:14:08.230000',
    processed_time: '2024-03-01 10:14:10.118000',
    server_received_time: '2024-03-01 10:14:09.004000',
    server_upload_time: '2024-03-01 10:14:09.377000',
    user_creation_time: null,
    uuid: '0d3c7a52-4b7e-11ee-9f0a-0242ac120002',
  };

  it('rewrites the seven top-level timestamps to RFC 3339 in UTC and keeps every other byte', () => {
    const { line, uploadHour } = normaliseEventLine(raw(event));
    const parsed = JSON.parse(line);
    assert.equal(parsed.client_event_time, '2024-03-01T10:14:07.512000+00:00');
    assert.equal(parsed.client_upload_time, '2024-03-01T10:14:09.004000+00:00');
    assert.equal(parsed.event_time, '2024-03-01T10:14:08.230000+00:00');
    assert.equal(parsed.processed_time, '2024-03-01T10:14:10.118000+00:00');
    assert.equal(parsed.server_received_time, '2024-03-01T10:14:09.004000+00:00');
    assert.equal(parsed.server_upload_time, '2024-03-01T10:14:09.377000+00:00');
    assert.equal(parsed.user_creation_time, null);
    assert.equal(uploadHour, Date.UTC(2024, 2, 1, 10));
    assert.deepEqual(
      {
        ...parsed,
        event_time: 0,
        client_event_time: 0,
        client_upload_time: 0,
        processed_time: 0,
        server_received_time: 0,
        server_upload_time: 0,
      },
      {
        ...event,
        event_time: 0,
        client_event_time: 0,
        client_upload_time: 0,
        processed_time: 0,
        server_received_time: 0,
        server_upload_time: 0,
      },
    );
  });

  it('leaves a nested key named like a top-level timestamp untouched, even with the same value', () => {
    const parsed = JSON.parse(normaliseEventLine(raw(event)).line);
    assert.equal(parsed.event_properties.event_time, '2024-03-01 10:14:08.230000');
  });

  it('keeps numbers exactly as sent, including integers beyond 2^53', () => {
    const line = '{"big":12345678901234567890,"f":1.10,"server_upload_time":"2024-03-01 10:00:00.000001"}';
    assert.equal(
      normaliseEventLine(line).line,
      '{"big":12345678901234567890,"f":1.10,"server_upload_time":"2024-03-01T10:00:00.000001+00:00"}',
    );
  });

  it('handles the spaced JSON style too', () => {
    const line =
      '{"event_time": "2024-03-01 10:00:00.500000", "server_upload_time": "2024-03-01 11:00:00.000000"}';
    assert.equal(
      normaliseEventLine(line).line,
      '{"event_time": "2024-03-01T10:00:00.500000+00:00", "server_upload_time": "2024-03-01T11:00:00+00:00"}',
    );
  });

  it("writes timestamps exactly as Airbyte's connector does (Python's isoformat)", () => {
    const cases: Array<[string, string]> = [
      // Whole seconds: no fraction at all.
      ['2026-12-01 00:00:00.000000', '2026-12-01T00:00:00+00:00'],
      ['2026-12-01 13:45:09.000000', '2026-12-01T13:45:09+00:00'],
      ['2026-12-01 13:45:09', '2026-12-01T13:45:09+00:00'],
      ['2026-12-01 13:45:09.0', '2026-12-01T13:45:09+00:00'],
      // Any other fraction: six digits, padded.
      ['2026-12-01 13:45:09.5', '2026-12-01T13:45:09.500000+00:00'],
      ['2026-12-01 13:45:09.50', '2026-12-01T13:45:09.500000+00:00'],
      ['2026-12-01 13:45:09.500000', '2026-12-01T13:45:09.500000+00:00'],
      ['2026-12-01 13:45:09.000001', '2026-12-01T13:45:09.000001+00:00'],
      ['2026-12-01 23:59:59.999999', '2026-12-01T23:59:59.999999+00:00'],
    ];
    for (const [sent, written] of cases) {
      const line = `{"event_time":"${sent}","server_upload_time":"${sent}","event_properties":{"event_time":"${sent}"}}`;
      assert.equal(
        normaliseEventLine(line).line,
        `{"event_time":"${written}","server_upload_time":"${written}","event_properties":{"event_time":"${sent}"}}`,
        sent,
      );
    }
    // A nested look-alike with the same value forces the re-serialising path: the same rules.
    const tricky =
      '{"server_upload_time":"2026-12-01 00:00:00.000000","p":{"server_upload_time":"2026-12-01 00:00:00.000000"}}';
    assert.equal(
      normaliseEventLine(tricky).line,
      '{"server_upload_time":"2026-12-01T00:00:00+00:00","p":{"server_upload_time":"2026-12-01 00:00:00.000000"}}',
    );
  });

  it('rewrites the top-level key spelled with escapes, never a nested look-alike with its value', () => {
    const line =
      '{"server_upload_time":"2024-03-01 10:00:00.1","x":{"event_time":"2024-01-01 00:00:00.5"},"event\\u005ftime":"2024-01-01 00:00:00.5"}';
    const parsed = JSON.parse(normaliseEventLine(line).line);
    assert.equal(parsed.event_time, '2024-01-01T00:00:00.500000+00:00');
    assert.equal(parsed.x.event_time, '2024-01-01 00:00:00.5');
    assert.equal(parsed.server_upload_time, '2024-03-01T10:00:00.100000+00:00');
  });

  it('falls back to re-serialising when the raw text spells a timestamp with escapes', () => {
    const line = '{"server_upload_time":"2024-03-01 10:00:00\\u002e000000","n":1}';
    const parsed = JSON.parse(normaliseEventLine(line).line);
    assert.equal(parsed.server_upload_time, '2024-03-01T10:00:00+00:00');
    assert.equal(parsed.n, 1);
  });

  it('refuses lines it cannot place, naming the problem', () => {
    assert.throws(() => normaliseEventLine('{"uuid":"x"'), EventRecordError);
    assert.throws(() => normaliseEventLine('[1,2]'), /not a JSON object/);
    assert.throws(() => normaliseEventLine('{"uuid":"x"}'), /no valid server_upload_time/);
    assert.throws(
      () => normaliseEventLine('{"server_upload_time":"yesterday"}'),
      /no valid server_upload_time/,
    );
  });
});

describe('event normalisation against a JSON.parse reference', () => {
  /** What the output must mean: the event as parsed, with the seven top-level timestamps rewritten. */
  function reference(line: string): { event: Record<string, unknown>; hour: number | undefined } {
    const event = JSON.parse(line) as Record<string, unknown>;
    for (const field of EVENT_TIMESTAMP_FIELDS) {
      const value = event[field];
      if (typeof value === 'string') event[field] = amplitudeTimestampToRfc3339(value) ?? value;
    }
    const upload = JSON.parse(line).server_upload_time;
    return { event, hour: typeof upload === 'string' ? amplitudeTimestampHour(upload) : undefined };
  }

  /** The same event spelled differently: spaced, with escapes, look-alikes, repeated keys, bad values. */
  function variants(line: string): string[] {
    const spaced = JSON.stringify(JSON.parse(line), null, 1).replaceAll('\n', ' ');
    const beforeEnd = (text: string) => line.slice(0, -1) + text + line.slice(-1);
    return [
      line,
      spaced,
      line.replace('"event_time":"2', '"event_time":"\\u0032'), // an escaped timestamp value
      line.replace('"event_time":', '"\\u0065vent_time":'), // an escaped top-level key
      line.replace('{', '{"event_properties":{"server_upload_time":"2020-01-01 00:00:00.000000"},'),
      beforeEnd(',"event_time":"2024-03-01 10:00:00"'), // a repeated key: the last one counts
      line.replace('"event_type":"', '"event_type":"\\"é\\u2028\\n'),
      line.replace('"server_upload_time":"', '"server_upload_time":"x'),
      beforeEnd(',"trailing":[1,{"a":[true,false,null,-0.5e+3]}]'),
      beforeEnd(',"broken":[1,]'),
      line.replace('"event_type":"', '"event_type":"\t'),
    ];
  }

  it('writes what the reference means, for simulated events and their variants', () => {
    const generator = new EventLineGenerator(7, 187520);
    const hour = Date.UTC(2024, 2, 1, 10);
    const text = Buffer.concat([...generator.ndjsonChunks(hour, 400)]).toString('utf8');
    let checked = 0;
    for (const line of text.split('\n').filter(Boolean)) {
      for (const variant of variants(line)) {
        let expected: ReturnType<typeof reference>;
        try {
          expected = reference(variant);
        } catch {
          assert.throws(() => normaliseEventLine(variant), EventRecordError, variant);
          continue;
        }
        if (expected.hour === undefined) {
          assert.throws(() => normaliseEventLine(variant), /no valid server_upload_time/, variant);
          continue;
        }
        const written = normaliseEventLine(variant);
        assert.deepEqual(JSON.parse(written.line), expected.event, variant);
        assert.equal(written.uploadHour, expected.hour, variant);
        checked++;
      }
    }
    assert.ok(checked > 2000, `${checked} lines checked`);
  });

  it('groups a batch by upload hour in order, whichever path each line takes', () => {
    const generator = new EventLineGenerator(11, 187520);
    const hours = [Date.UTC(2024, 2, 1, 10), Date.UTC(2024, 2, 1, 11)];
    const [early, late] = hours.map((hour) =>
      Buffer.concat([...generator.ndjsonChunks(hour, 300)])
        .toString('utf8')
        .split('\n')
        .filter(Boolean),
    );
    const lines: string[] = [];
    for (let i = 0; i < 300; i++) {
      const line = (i % 7 === 3 ? late : early)![i]!;
      // Every fifth line leaves the scan: an escaped key (rewritten in place) or an escaped timestamp (re-serialised).
      if (i % 5 === 1) lines.push(line.replace('"uuid"', '"\\u0075uid"'));
      else if (i % 5 === 2) lines.push(line.replace(/("event_time":"[^"]{10}) /, '$1\\u0020'));
      else lines.push(line);
    }
    const expected = new Map<number, string[]>();
    for (const line of lines) {
      const { line: written, uploadHour } = normaliseEventLine(line);
      expected.set(uploadHour, [...(expected.get(uploadHour) ?? []), written]);
    }
    assert.equal(expected.size, 2);
    // Split into batches the way export members are: CRLF line ends, chunks cut anywhere.
    const text = Buffer.from(`${lines.join('\r\n')}\r\n`);
    const splitter = new LineSplitter();
    const written = new Map<number, { text: string; records: number }>();
    const take = (batches: ReturnType<LineSplitter['push']>) => {
      for (const batch of batches) {
        for (const [hour, { bytes, records }] of normaliseEvents(batch)) {
          const sofar = written.get(hour) ?? { text: '', records: 0 };
          written.set(hour, { text: sofar.text + bytes.toString('utf8'), records: sofar.records + records });
        }
      }
    };
    for (let at = 0; at < text.length; at += 40_000) take(splitter.push(text.subarray(at, at + 40_000)));
    take(splitter.end());
    for (const [hour, expectedLines] of expected) {
      assert.equal(written.get(hour)?.text, `${expectedLines.join('\n')}\n`, `hour ${hour}`);
      assert.equal(written.get(hour)?.records, expectedLines.length);
    }
  });
});
