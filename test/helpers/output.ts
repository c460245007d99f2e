import assert from 'node:assert/strict';
// Reading what a sync wrote, for comparison with the simulator's ground truth.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HOUR_MS } from '../../src/amplitude/time.ts';
import { decompressPartitionSync } from '../../src/destination/codec.ts';
import { eventHourPartition } from '../../src/destination/layout.ts';
import type { Simulator } from '../../src/simulator/index.ts';
import type { SyncState } from '../../src/workflows/types.ts';

export async function partitionFiles(root: string, stream: string): Promise<string[]> {
  const entries = await readdir(join(root, stream), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(root.length + 1))
    .sort();
}

export async function readRecords(root: string, partition: string): Promise<Record<string, unknown>[]> {
  const text = decompressPartitionSync(partition, await readFile(join(root, partition))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line));
}

/** Event partitions expected for [start, end) per the ground truth, with their records. */
export function expectedEventPartitions(sim: Simulator, start: number, end: number) {
  return sim.groundTruth.eventHours(start, end).map(({ hour, count }) => {
    const hourMs = Date.parse(`${hour}:00:00Z`);
    return {
      partition: eventHourPartition(hourMs),
      count,
      records: () => [...sim.groundTruth.eventsOfHour(hourMs)],
    };
  });
}

export const hoursBetween = (start: number, end: number) => (end - start) / HOUR_MS;

/**
 * Asserts the events partitions equal the ground truth for upload hours [start, end); returns the event
 * count. With `laterHoursMayExist`, partitions of later hours (written by windows that finished after
 * the watermark stopped) may exist too, and must then be exact as well.
 */
export async function assertEventsMatch(
  root: string,
  sim: Simulator,
  start: number,
  end: number,
  options: { laterHoursMayExist?: boolean } = {},
): Promise<number> {
  const files = await partitionFiles(root, 'events');
  const later = files.filter((file) => file >= eventHourPartition(end));
  if (options.laterHoursMayExist) {
    for (const file of later) {
      const hour = Date.parse(`${file.slice(-22, -9)}:00:00Z`);
      assert.deepEqual(await readRecords(root, file), [...sim.groundTruth.eventsOfHour(hour)], file);
    }
  } else {
    assert.deepEqual(later, [], 'nothing is written beyond the watermark');
  }
  const expected = expectedEventPartitions(sim, start, end);
  assert.deepEqual(
    files.filter((file) => file < eventHourPartition(end)),
    expected.map((p) => p.partition).sort(),
  );
  const seen = new Set<unknown>();
  for (const partition of expected) {
    const records = await readRecords(root, partition.partition);
    assert.equal(records.length, partition.count, partition.partition);
    assert.deepEqual(records, partition.records(), partition.partition);
    for (const record of records) {
      assert.ok(!seen.has(record.uuid), `uuid ${record.uuid} appears once`);
      seen.add(record.uuid);
    }
  }
  return seen.size;
}

async function streamRecords(root: string, stream: string) {
  const records = [];
  for (const partition of await partitionFiles(root, stream))
    records.push(...(await readRecords(root, partition)));
  return records;
}

/**
 * Asserts each dashboard stream's partitions hold exactly the days from firstDay up to the day before
 * its own completeBefore (each stream decides independently which day is the first incomplete one).
 */
export async function assertDashboardsMatch(
  root: string,
  sim: Simulator,
  firstDay: string,
  streams: SyncState['streams'],
  byCountry: boolean,
): Promise<void> {
  const lastDayOf = (stream: 'active_users' | 'average_session_length') => {
    const firstIncompleteDay = streams[stream]?.completeBefore;
    assert.ok(firstIncompleteDay, `${stream} has a state`);
    return new Date(Date.parse(firstIncompleteDay) - 86_400_000).toISOString().slice(0, 10);
  };
  assert.deepEqual(
    await streamRecords(root, 'active_users'),
    sim.groundTruth.activeUsers(firstDay, lastDayOf('active_users'), byCountry),
  );
  assert.deepEqual(
    await streamRecords(root, 'average_session_length'),
    sim.groundTruth.averageSessionLength(firstDay, lastDayOf('average_session_length')),
  );
}
