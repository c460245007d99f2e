import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { amplitudeTimestampHour, exportHourParam, isoHour } from '../../src/amplitude/time.ts';
import { type Simulator, TIMESTAMP_FIELDS } from '../../src/simulator/index.ts';
import {
  DATA_START,
  DAY_MS,
  decodeExport,
  exportPath,
  get,
  HOUR_MS,
  hour,
  type Member,
  parseMemberName,
  simulator,
} from './helpers.ts';

const execFileAsync = promisify(execFile);

/** The 55 keys of a real export record (amplitude-api.md §2.1), in the order they are sent. */
// biome-ignore format: several keys a line read better than one a line
const EXPORT_KEYS = [
  '$insert_id', '$insert_key', '$schema', 'adid', 'amplitude_attribution_ids', 'amplitude_event_type',
  'amplitude_id', 'app', 'city', 'client_event_time', 'client_upload_time', 'country', 'data', 'data_type',
  'device_brand', 'device_carrier', 'device_family', 'device_id', 'device_manufacturer', 'device_model',
  'device_type', 'dma', 'event_id', 'event_properties', 'event_time', 'event_type', 'global_user_properties',
  'group_properties', 'groups', 'idfa', 'ip_address', 'is_attribution_event', 'language', 'library',
  'location_lat', 'location_lng', 'os_name', 'os_version', 'partner_id', 'paying', 'plan', 'platform',
  'processed_time', 'region', 'sample_rate', 'server_received_time', 'server_upload_time', 'session_id',
  'source_id', 'start_version', 'user_creation_time', 'user_id', 'user_properties', 'uuid', 'version_name',
];

const AMPLITUDE_TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Microseconds since the epoch of an Amplitude timestamp (UTC). */
function micros(timestamp: string): number {
  const [date, time] = timestamp.split(' ') as [string, string];
  const [seconds, fraction] = time.split('.') as [string, string];
  return Date.parse(`${date}T${seconds}Z`) * 1000 + Number(fraction);
}

describe('export API: a whole served day', () => {
  let sim: Simulator;
  let members: Member[];
  let records: Array<Record<string, unknown>>;
  let archive: Buffer;
  before(async () => {
    sim = await simulator();
    const response = await get(sim, exportPath(hour(1, 0), hour(1, 23)));
    archive = response.body;
    assert.equal(response.status, 200);
    assert.equal(response.headers['content-type'], 'application/zip');
    assert.equal(response.body.subarray(0, 4).toString('latin1'), 'PK\x03\x04');
    members = decodeExport(response.body);
    records = members.flatMap((member) => member.lines.map((line) => JSON.parse(line)));
  });
  after(() => sim.close());

  it('names members <app>/<app>_<YYYY-MM-DD>_<H>#<n>.json.gz with an unpadded hour, in chronological order', () => {
    assert.ok(members.some((member) => member.name === '187520/187520_2024-03-02_7#0.json.gz'));
    assert.ok(members.some((member) => member.name === '187520/187520_2024-03-02_23#0.json.gz'));
    const hours = members.map((member) => parseMemberName(member.name).hourStartMs);
    assert.deepEqual(
      hours,
      [...hours].sort((a, b) => a - b),
    );
    assert.ok(hours.every((h) => h >= hour(1, 0) && h <= hour(1, 23)));
  });

  it('is a ZIP archive that an independent reader accepts, every CRC-32 checked (Python zipfile)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simulator-zip-'));
    try {
      await writeFile(join(dir, 'export.zip'), archive);
      const check = [
        'import sys, zipfile',
        'z = zipfile.ZipFile(sys.argv[1])',
        'print(z.testzip() or "ok", len(z.namelist()))',
      ].join('\n');
      const { stdout } = await execFileAsync('python3', ['-c', check, join(dir, 'export.zip')]);
      assert.equal(stdout.trim(), `ok ${members.length}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('serves exactly the events of the ground truth, hour by hour, line for line', () => {
    const expectedHours = sim.groundTruth.eventHours(hour(1, 0), hour(2, 0));
    assert.ok(expectedHours.length >= 18, 'most hours have events');
    assert.deepEqual(
      members.map((member) => ({
        hour: isoHour(parseMemberName(member.name).hourStartMs),
        count: member.lines.length,
      })),
      expectedHours,
    );
    for (const member of members) {
      assert.deepEqual(member.lines, [
        ...sim.groundTruth.rawEventLinesOfHour(parseMemberName(member.name).hourStartMs),
      ]);
    }
  });

  it('selects events by server_upload_time: every event was uploaded in its member hour', () => {
    for (const member of members) {
      const memberHour = parseMemberName(member.name).hourStartMs;
      for (const line of member.lines) {
        assert.equal(amplitudeTimestampHour(JSON.parse(line).server_upload_time), memberHour);
      }
    }
  });

  it('sends all 55 keys in a stable order, nulls included', () => {
    for (const record of records) assert.deepEqual(Object.keys(record), EXPORT_KEYS);
    for (const key of ['$insert_key', '$schema', 'sample_rate', 'user_creation_time', 'device_brand']) {
      assert.ok(
        records.every((record) => record[key] === null),
        `${key} is always null`,
      );
    }
    assert.ok(
      records.some((record) => record.user_id === null),
      'anonymous users have user_id null',
    );
    assert.ok(
      records.some((record) => record.session_id === -1),
      'server-side events have session_id -1',
    );
    assert.ok(records.every((record) => record.app === 187520 && record.data_type === 'event'));
  });

  it('formats timestamps exactly as YYYY-MM-DD HH:MM:SS.ffffff and orders them plausibly', () => {
    for (const record of records) {
      for (const field of TIMESTAMP_FIELDS.filter((name) => name !== 'user_creation_time')) {
        assert.match(record[field] as string, AMPLITUDE_TIMESTAMP, field);
      }
      const upload = micros(record.server_upload_time as string);
      assert.ok(micros(record.server_received_time as string) <= upload);
      assert.ok(micros(record.client_upload_time as string) <= micros(record.server_received_time as string));
      assert.ok(micros(record.client_event_time as string) <= micros(record.client_upload_time as string));
      assert.ok(micros(record.event_time as string) <= upload);
      assert.ok(micros(record.processed_time as string) > upload);
    }
  });

  it('gives every event a unique UUID', () => {
    const uuids = records.map((record) => record.uuid as string);
    assert.ok(uuids.every((uuid) => UUID.test(uuid)));
    assert.equal(new Set(uuids).size, uuids.length);
  });

  it('includes late events whose event_time is days older than their upload', () => {
    const late = records.filter(
      (record) =>
        micros(record.server_upload_time as string) - micros(record.event_time as string) > DAY_MS * 1000,
    );
    assert.ok(late.length > 0);
  });

  it('carries text that breaks naive pipelines: raw U+2028/U+2029, astral emoji, escapes', () => {
    const lines = members.flatMap((member) => member.lines);
    assert.ok(lines.some((line) => line.includes('\u2028') && line.includes('\u2029')));
    assert.ok(
      lines.some((line) => /\p{Extended_Pictographic}/u.test(line) && /[\u{10000}-\u{10FFFF}]/u.test(line)),
    );
    assert.ok(lines.some((line) => line.includes('\\"ship it\\"')));
    assert.ok(records.some((record) => record.country === 'Côte d’Ivoire'));
  });

  it('nests keys that look like top-level ones, which the ground truth leaves untouched', () => {
    const imported = records.filter((record) => record.event_type === 'Record Imported');
    assert.ok(imported.length > 0);
    for (const record of imported) {
      const properties = record.event_properties as Record<string, string>;
      assert.match(properties.event_time!, AMPLITUDE_TIMESTAMP);
      assert.match(properties.uuid!, UUID);
    }
    const importedHour = amplitudeTimestampHour(imported[0]!.server_upload_time as string)!;
    const expected = [...sim.groundTruth.eventsOfHour(importedHour)].find(
      (record) => record.uuid === imported[0]!.uuid,
    )!;
    assert.deepEqual(expected.event_properties, imported[0]!.event_properties);
    assert.equal(expected.event_time, `${(imported[0]!.event_time as string).replace(' ', 'T')}+00:00`);
  });

  it('ground truth records are the served records with the 7 timestamp fields in RFC 3339, nulls kept', () => {
    const member = members[3]!;
    const expected = [...sim.groundTruth.eventsOfHour(parseMemberName(member.name).hourStartMs)];
    assert.equal(expected.length, member.lines.length);
    member.lines.forEach((line, i) => {
      const served = JSON.parse(line) as Record<string, unknown>;
      for (const field of TIMESTAMP_FIELDS) {
        served[field] =
          served[field] === null ? null : `${(served[field] as string).replace(' ', 'T')}+00:00`;
      }
      assert.deepEqual(expected[i], served);
    });
    assert.match(
      expected[0]!.server_upload_time as string,
      /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}\+00:00$/,
    );
  });

  it('averages on the order of 1.3-1.8 KB per line', () => {
    const bytes = members
      .flatMap((member) => member.lines)
      .reduce((sum, line) => sum + Buffer.byteLength(line) + 1, 0);
    const average = bytes / records.length;
    assert.ok(average > 1200 && average < 2000, `average line is ${average} bytes`);
  });
});

describe('export API: ranges, partitions and availability', () => {
  it('includes both ends of the range', async () => {
    const sim = await simulator({ eventsPerHour: 3 });
    try {
      const response = await get(sim, exportPath(hour(0, 5), hour(0, 7)));
      const names = decodeExport(response.body).map((member) => member.name);
      assert.deepEqual(names, [
        '187520/187520_2024-03-01_5#0.json.gz',
        '187520/187520_2024-03-01_6#0.json.gz',
        '187520/187520_2024-03-01_7#0.json.gz',
      ]);
      const single = decodeExport((await get(sim, exportPath(hour(0, 9), hour(0, 9)))).body);
      assert.deepEqual(
        single.map((member) => member.lines.length),
        [3],
      );
    } finally {
      await sim.close();
    }
  });

  it('splits an hour into several members above eventsPerPartition, numbered from 0', async () => {
    const sim = await simulator({ eventsPerHour: 25, eventsPerPartition: 10 });
    try {
      const members = decodeExport((await get(sim, exportPath(hour(0, 10), hour(0, 11)))).body);
      assert.deepEqual(
        members.map((member) => [member.name, member.lines.length]),
        [
          ['187520/187520_2024-03-01_10#0.json.gz', 10],
          ['187520/187520_2024-03-01_10#1.json.gz', 10],
          ['187520/187520_2024-03-01_10#2.json.gz', 5],
          ['187520/187520_2024-03-01_11#0.json.gz', 10],
          ['187520/187520_2024-03-01_11#1.json.gz', 10],
          ['187520/187520_2024-03-01_11#2.json.gz', 5],
        ],
      );
      const hourTen = members.slice(0, 3).flatMap((member) => member.lines);
      assert.deepEqual(hourTen, [...sim.groundTruth.rawEventLinesOfHour(hour(0, 10))]);
    } finally {
      await sim.close();
    }
  });

  it('can number partitions from 1, and uses the project id for folder, file names and app', async () => {
    const sim = await simulator({
      eventsPerHour: 15,
      eventsPerPartition: 10,
      firstPartitionIndex: 1,
      projectId: 42,
    });
    try {
      const members = decodeExport((await get(sim, exportPath(hour(0, 0), hour(0, 0)))).body);
      assert.deepEqual(
        members.map((member) => member.name),
        ['42/42_2024-03-01_0#1.json.gz', '42/42_2024-03-01_0#2.json.gz'],
      );
      assert.equal(JSON.parse(members[0]!.lines[0]!).app, 42);
    } finally {
      await sim.close();
    }
  });

  it('answers 404 "Raw data files were not found." when the range holds no event', async () => {
    const sim = await simulator({ eventsPerHour: (h) => (h === hour(0, 3) ? 0 : 5) });
    try {
      const empty = await get(sim, exportPath(hour(0, 3), hour(0, 3)));
      assert.equal(empty.status, 404);
      assert.match(empty.text, /Raw data files were not found\./);
      const beforeData = await get(sim, exportPath(DATA_START - 5 * HOUR_MS, DATA_START - HOUR_MS));
      assert.equal(beforeData.status, 404);
      assert.deepEqual(
        decodeExport((await get(sim, exportPath(hour(0, 2), hour(0, 4)))).body).map((m) => m.name),
        ['187520/187520_2024-03-01_2#0.json.gz', '187520/187520_2024-03-01_4#0.json.gz'],
      );
    } finally {
      await sim.close();
    }
  });

  it('hides an upload hour until it ended availabilityDelayMs (default 2 h) ago, following setNow and advance', async () => {
    const hourTen = hour(0, 10);
    const sim = await simulator({ eventsPerHour: 5, now: hourTen + HOUR_MS + 2 * HOUR_MS - 1 });
    try {
      assert.equal((await get(sim, exportPath(hourTen, hourTen))).status, 404);
      assert.deepEqual(sim.groundTruth.eventHours(hourTen, hourTen + HOUR_MS), []);
      sim.advance(1);
      assert.equal((await get(sim, exportPath(hourTen, hourTen))).status, 200);
      assert.deepEqual(sim.groundTruth.eventHours(hourTen, hourTen + HOUR_MS), [
        { hour: '2024-03-01T10', count: 5 },
      ]);
      const wholeDay = decodeExport((await get(sim, exportPath(hour(0, 0), hour(0, 23)))).body);
      assert.equal(wholeDay.length, 11, 'hours 00..10 are visible, later ones not yet');
      sim.setNow(hour(1, 2));
      assert.equal(decodeExport((await get(sim, exportPath(hour(0, 0), hour(0, 23)))).body).length, 24);
    } finally {
      await sim.close();
    }
  });

  it('answers 400 when the estimated size (events x nominalEventBytes) exceeds the export size limit', async () => {
    const sim = await simulator({
      eventsPerHour: 100,
      nominalEventBytes: 1000,
      exportSizeLimitBytes: 250_000,
    });
    try {
      assert.equal((await get(sim, exportPath(hour(0, 0), hour(0, 1)))).status, 200);
      const tooLarge = await get(sim, exportPath(hour(0, 0), hour(0, 2)));
      assert.equal(tooLarge.status, 400);
      assert.match(tooLarge.text, /too large/);
      assert.match(tooLarge.text, /shorter time range/);
      assert.match(tooLarge.text, /S3 export/);
    } finally {
      await sim.close();
    }
  });

  it('answers 400 with a plain-text reason for malformed or impossible ranges', async () => {
    const sim = await simulator({ eventsPerHour: 1 });
    try {
      const cases: Array<[string, RegExp]> = [
        ['?start=20240301T00', /Missing required parameter 'end'/],
        ['?end=20240301T00', /Missing required parameter 'start'/],
        ['?start=2024030100&end=20240301T01', /Invalid 'start'/],
        ['?start=20240301T5&end=20240301T06', /Invalid 'start'/],
        ['?start=20240301T00&end=20240301T24', /Invalid 'end'/],
        ['?start=20240230T00&end=20240301T00', /Invalid 'start'/],
        ['?start=20240302T00&end=20240301T23', /after 'end'/],
        ['?start=20230301T00&end=20240301T00', /longer than 365 days/],
      ];
      for (const [query, reason] of cases) {
        const response = await get(sim, `/api/2/export${query}`);
        assert.equal(response.status, 400, query);
        assert.match(response.text, reason, query);
        assert.match(String(response.headers['content-type']), /^text\/plain/);
      }
      const exactlyAYear = await get(sim, exportPath(DATA_START - 365 * DAY_MS, DATA_START - HOUR_MS));
      assert.equal(exactlyAYear.status, 404, 'a 365-day span is allowed');
    } finally {
      await sim.close();
    }
  });

  it('logs the parsed hour range of export requests', async () => {
    const sim = await simulator({ eventsPerHour: 1 });
    try {
      await get(sim, exportPath(hour(0, 1), hour(0, 4)));
      await get(sim, '/api/2/export?start=nope&end=20240301T00');
      assert.deepEqual(sim.requests[0]?.exportHours, { start: hour(0, 1), end: hour(0, 4) });
      assert.equal(sim.requests[0]?.status, 200);
      assert.equal(sim.requests[1]?.exportHours, undefined);
      assert.equal(sim.requests[1]?.status, 400);
      assert.equal(sim.requests[0]?.query.start, exportHourParam(hour(0, 1)));
    } finally {
      await sim.close();
    }
  });
});

describe('export API: determinism', () => {
  it('serves byte-identical archives for the same seed and different data for another seed', async () => {
    const [first, second, other] = await Promise.all([
      simulator({ seed: 'same' }),
      simulator({ seed: 'same' }),
      simulator({ seed: 'other' }),
    ]);
    try {
      const path = exportPath(hour(0, 0), hour(0, 5));
      const [a, b, c] = await Promise.all([get(first, path), get(second, path), get(other, path)]);
      assert.ok(a.body.length > 10_000);
      assert.ok(a.body.equals(b.body));
      assert.ok(!a.body.equals(c.body));
      assert.ok((await get(first, path)).body.equals(a.body), 'a repeated request gets the same bytes');
    } finally {
      await Promise.all([first.close(), second.close(), other.close()]);
    }
  });
});
