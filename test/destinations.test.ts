import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, it } from 'node:test';
import { HOUR_MS, isoHour } from '../src/amplitude/time.ts';
import type { Destination } from '../src/destination/destination.ts';
import {
  connectionOf,
  dashboardMonthPartition,
  eventHourPartition,
  PARTITION_SUFFIX,
  snapshotPartition,
} from '../src/destination/layout.ts';
import { destinations } from '../src/destination/open.ts';
import { compressionOf, type DestinationSpec } from '../src/destination/spec.ts';
import { databaseOf, eventsByHour, filePartitionNames, streamRecords } from './helpers/destination-output.ts';
import { newBucket, newDatabase, newLocal, useTestCredentials } from './helpers/destinations.ts';

const T0 = Date.UTC(2024, 2, 1);
const opened = destinations();

function event(hour: number, n: number, extra: Record<string, unknown> = {}) {
  const at = new Date(hour + n * 1000).toISOString().replace('Z', '+00:00').replace('.000', '');
  return {
    uuid: randomUUID(),
    event_time: at,
    server_upload_time: at,
    event_type: `type ${n}`,
    user_id: n % 2 ? `user\t${n}\\x` : null,
    device_id: `d-${n}`,
    amplitude_id: 550106004607 + n,
    session_id: -1,
    country: 'Côte d’Ivoire',
    platform: 'Web',
    app: 187520,
    event_properties: { nested: { country: 'not this one' }, text: 'line\nbreak "quoted" \\ back' },
    ...extra,
  };
}

const lines = (records: object[]) =>
  Buffer.from(records.map((record) => `${JSON.stringify(record)}\n`).join(''));

const zstd =
  <T extends object>(make: () => Promise<T>) =>
  async () => ({
    ...(await make()),
    compression: 'zstd' as const,
  });

for (const [name, make] of [
  ['local', newLocal],
  ['s3', newBucket],
  ['postgres', newDatabase],
  // zstd: needs Node 22.15 or later (the project's Node 24 has it).
  ['local with zstd', zstd(newLocal)],
  ['s3 with zstd', zstd(newBucket)],
] as const) {
  describe(`the ${name} destination`, () => {
    let spec: DestinationSpec;
    let destination: Destination;
    const runKey = `connection-${name.replaceAll(' ', '-')}/2024-03-02T00-00-00Z_run-1`;

    before(async () => {
      await useTestCredentials();
      spec = await make();
      destination = await opened.open(spec, runKey);
      await destination.check();
    });

    it('publishes hours whole, replaces an hour written again, and shows nothing of an aborted writer', async () => {
      const first = destination.hourWriter('attempt-1');
      const hourA = [
        event(T0, 1),
        event(T0, 2),
        event(T0, 3, { event_properties: { weird: '\u0000\ud83d' } }),
      ];
      const hourB = [event(T0 + HOUR_MS, 1)];
      await first.write(T0, lines(hourA.slice(0, 2)), 2);
      await first.write(T0 + HOUR_MS, lines(hourB), 1);
      await first.write(T0, lines(hourA.slice(2)), 1);
      assert.deepEqual(first.pendingHours(), [T0, T0 + HOUR_MS]);
      assert.deepEqual(await eventsByHour(spec), new Map(), 'nothing is visible before the commit');
      const committed = await first.commit(T0);
      assert.equal(committed?.records, 3);
      await first.commit(T0 + HOUR_MS);

      const stored = await eventsByHour(spec);
      assert.equal(stored.get(isoHour(T0))?.length, 3);
      const bySorted = (records: object[]) =>
        [...records].sort((a, b) =>
          String((a as { uuid: string }).uuid).localeCompare((b as { uuid: string }).uuid),
        );
      if (spec.type !== 'postgres') {
        assert.deepEqual(stored.get(isoHour(T0)), bySorted(hourA), 'records kept as written');
      } else {
        const kept = bySorted(hourA.slice(0, 2));
        assert.deepEqual(
          stored.get(isoHour(T0))?.filter((r) => r.event_type !== 'type 3'),
          kept,
        );
        const cleaned = stored.get(isoHour(T0))?.find((r) => r.event_type === 'type 3');
        assert.deepEqual(
          cleaned?.event_properties,
          { weird: '\ufffd\ufffd' },
          'what jsonb cannot hold is replaced',
        );
        const sql = await databaseOf(spec);
        try {
          const typed = await sql.unsafe(
            `select record->>'uuid' = uuid::text and record->>'event_type' = event_type and record->>'country' = country
               and record->>'user_id' is not distinct from user_id
               and (record->>'amplitude_id')::bigint = amplitude_id as same, user_id from ${spec.schema}.events`,
          );
          assert.equal(typed.length, 4);
          assert.ok(
            typed.every((row) => row.same),
            'typed columns hold the record values, tabs and backslashes included',
          );
          assert.ok(typed.some((row) => row.user_id === 'user\t1\\x'));
        } finally {
          await sql.end();
        }
      }

      // The same hour again (a retry, a lookback re-read) with one more event: replaced, not added to.
      const again = destination.hourWriter('attempt-2');
      await again.write(T0, lines([...hourA.slice(0, 2), event(T0, 4)]), 3);
      await again.commit(T0);
      assert.equal((await eventsByHour(spec)).get(isoHour(T0))?.length, 3);
      const counts = await destination.eventCounts(runKey, T0, T0 + 3 * HOUR_MS);
      assert.equal(counts.get(T0), 3);
      assert.equal(counts.get(T0 + HOUR_MS), 1);

      const aborted = destination.hourWriter('attempt-3');
      await aborted.write(T0 + 2 * HOUR_MS, lines([event(T0 + 2 * HOUR_MS, 1)]), 1);
      await aborted.abort();
      assert.equal((await eventsByHour(spec)).has(isoHour(T0 + 2 * HOUR_MS)), false);
    });

    it('replaces a dashboard month and a snapshot whole', async () => {
      const month = dashboardMonthPartition('active_users', T0, compressionOf(spec));
      await destination.replacePartition(month, [
        { date: '2024-03-01', statistics: { Canada: 4, '(none)': 1 } },
        { date: '2024-03-02', statistics: { Canada: 5 } },
      ]);
      const second = [{ date: '2024-03-01', statistics: { Canada: 7 } }];
      await destination.replacePartition(month, second);
      assert.deepEqual(await streamRecords(spec, 'active_users'), second);
      const sessions = [{ date: '2024-03-01', length: 301.5 }];
      await destination.replacePartition(
        dashboardMonthPartition('average_session_length', T0, compressionOf(spec)),
        sessions,
      );
      assert.deepEqual(await streamRecords(spec, 'average_session_length'), sessions);

      const cohorts = [
        { id: 'a1', name: 'Payers', size: 3, archived: false, owners: ['x@example.com'] },
        { id: 'b2', name: 'Churn — “risk”', size: 0, archived: true, owners: [] },
      ];
      await destination.replacePartition(snapshotPartition('cohorts', compressionOf(spec)), [
        { id: 'old', name: 'gone' },
      ]);
      await destination.replacePartition(snapshotPartition('cohorts', compressionOf(spec)), cohorts);
      assert.deepEqual(await streamRecords(spec, 'cohorts'), cohorts);
    });

    it('a partition written in one codec replaces the same partition in the other (once the config names one)', async () => {
      if (spec.type === 'postgres') return;
      const named = { ...spec, compression: compressionOf(spec) };
      const switched = { ...spec, compression: compressionOf(spec) === 'zstd' ? 'gzip' : 'zstd' } as const;
      const [first, second] = await Promise.all([opened.open(named, runKey), opened.open(switched, runKey)]);
      const hour = T0 + 5 * HOUR_MS;
      const before = first.hourWriter('codec-1');
      await before.write(hour, lines([event(hour, 1), event(hour, 2)]), 2);
      await before.commit(hour);
      const after = second.hourWriter('codec-2');
      await after.write(hour, lines([event(hour, 3)]), 1);
      await after.commit(hour);
      await second.replacePartition(snapshotPartition('annotations', switched.compression), [{ id: 1 }]);
      await first.replacePartition(snapshotPartition('annotations', named.compression), [{ id: 2 }]);
      const files = (await filePartitionNames(spec)).filter((name) => /T05|annotations/.test(name));
      assert.deepEqual(files.sort(), [
        `annotations/annotations${PARTITION_SUFFIX[named.compression]}`,
        eventHourPartition(hour, switched.compression),
      ]);
      assert.equal(
        (await eventsByHour(spec)).get(isoHour(hour))?.length,
        1,
        'the hour once, as last written',
      );
    });

    it('keeps receipts until the manifest gathers them; leftovers of other runs of the connection are removed', async () => {
      const receipt = {
        stream: 'events',
        slice: 'a',
        partitions: [{ partition: 'p', records: 1, bytes: 2 }],
      };
      await destination.writeReceipt(runKey, receipt);
      await destination.writeReceipt(runKey, { ...receipt, slice: 'b' });
      assert.deepEqual(
        (await destination.readReceipts(runKey)).map((r) => r.slice),
        ['a', 'b'],
      );
      const dead = `${connectionOf(runKey)}/2024-03-01T00-00-00Z_dead-run`;
      await destination.writeReceipt(dead, receipt);
      const other = `other-connection/2024-03-01T00-00-00Z_run`;
      await destination.writeReceipt(other, receipt);
      const removed = await destination.removeLeftovers(runKey);
      assert.equal(removed.receiptDirs, 1);
      assert.deepEqual(await destination.readReceipts(dead), []);
      assert.equal((await destination.readReceipts(other)).length, 1, 'another connection’s receipts stay');
      assert.equal((await destination.readReceipts(runKey)).length, 2, 'the live run’s receipts stay');

      const where = await destination.writeManifest(runKey, {
        sync: {
          workflowId: 'w',
          runId: 'run-1',
          startedAt: '2024-03-02T00:00:00Z',
          finishedAt: '2024-03-02T00:01:00Z',
        },
        state: { streams: { events: { completeBefore: '2024-03-01T02:00:00Z' } } },
        streams: {},
      });
      assert.ok(where.length > 0);
      assert.deepEqual(await destination.readReceipts(runKey), [], 'gathered receipts are gone');
    });
  });
}
