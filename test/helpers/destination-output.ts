// Reading back what a destination holds, whatever its type, for comparison with the ground truth.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { decompressPartitionSync } from '../../src/destination/codec.ts';
import { parsePartition } from '../../src/destination/layout.ts';
import type { DestinationSpec, S3Spec } from '../../src/destination/spec.ts';
import { partitionFiles } from './output.ts';
import { sharedPostgres, sharedS3 } from './shared-servers.ts';

export async function s3ClientFor(spec: S3Spec): Promise<S3Client> {
  const s3 = await sharedS3();
  return new S3Client({
    region: s3.region,
    endpoint: spec.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
}

function lines(partition: string, bytes: Uint8Array): Record<string, unknown>[] {
  return decompressPartitionSync(partition, bytes)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** Partition name -> its records (file-shaped destinations), in file order. */
async function filePartitions(spec: DestinationSpec): Promise<Map<string, Record<string, unknown>[]>> {
  const partitions = new Map<string, Record<string, unknown>[]>();
  if (spec.type === 'local') {
    for (const stream of [
      'events',
      'active_users',
      'average_session_length',
      'annotations',
      'cohorts',
      'events_list',
    ]) {
      for (const partition of await partitionFiles(spec.path, stream)) {
        if (partition.split('/').some((part) => part.startsWith('.'))) continue;
        partitions.set(partition, lines(partition, await readFile(join(spec.path, partition))));
      }
    }
    return partitions;
  }
  if (spec.type !== 's3') throw new Error('not file-shaped');
  const client = await s3ClientFor(spec);
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: spec.bucket,
        Prefix: spec.prefix,
        ...(token ? { ContinuationToken: token } : {}),
      }),
    );
    for (const object of page.Contents ?? []) {
      const partition = object.Key!.slice(spec.prefix.length);
      if (!parsePartition(partition)) continue;
      const body = await client.send(new GetObjectCommand({ Bucket: spec.bucket, Key: object.Key! }));
      partitions.set(partition, lines(partition, await body.Body!.transformToByteArray()));
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  client.destroy();
  return partitions;
}

/** The partitions of a file-shaped destination, by name. */
export async function filePartitionNames(spec: DestinationSpec): Promise<string[]> {
  return [...(await filePartitions(spec)).keys()];
}

/** Upload hour (`YYYY-MM-DDTHH`) -> its events, sorted by uuid. */
export async function eventsByHour(spec: DestinationSpec): Promise<Map<string, Record<string, unknown>[]>> {
  const hours = new Map<string, Record<string, unknown>[]>();
  if (spec.type === 'postgres') {
    const sql = await databaseOf(spec);
    const rows = await sql.unsafe(
      `select to_char(upload_hour at time zone 'UTC', 'YYYY-MM-DD"T"HH24') as hour, record from ${spec.schema}.events`,
    );
    await sql.end();
    for (const row of rows) hours.set(row.hour, [...(hours.get(row.hour) ?? []), row.record]);
  } else {
    for (const [partition, records] of await filePartitions(spec)) {
      const slice = parsePartition(partition);
      if (slice?.stream === 'events') hours.set(slice.hour!, records);
    }
  }
  for (const records of hours.values()) records.sort((a, b) => String(a.uuid).localeCompare(String(b.uuid)));
  return hours;
}

/** The records of a dashboard or snapshot stream, sorted, in Airbyte's record shapes. */
export async function streamRecords(
  spec: DestinationSpec,
  stream: string,
): Promise<Record<string, unknown>[]> {
  let records: Record<string, unknown>[] = [];
  if (spec.type === 'postgres') {
    const sql = await databaseOf(spec);
    if (stream === 'active_users') {
      const rows = await sql.unsafe(
        `select to_char(date, 'YYYY-MM-DD') as date, coalesce(country, '0') as country, users from ${spec.schema}.active_users`,
      );
      const byDate = new Map<string, Record<string, number>>();
      for (const row of rows)
        byDate.set(row.date, { ...byDate.get(row.date), [row.country]: Number(row.users) });
      records = [...byDate].map(([date, statistics]) => ({ date, statistics }));
    } else if (stream === 'average_session_length') {
      const rows = await sql.unsafe(
        `select to_char(date, 'YYYY-MM-DD') as date, length from ${spec.schema}.average_session_length`,
      );
      records = rows.map((row) => ({ date: row.date, length: row.length }));
    } else {
      records = (await sql.unsafe(`select record from ${spec.schema}.${stream}`)).map((row) => row.record);
    }
    await sql.end();
  } else {
    for (const [partition, found] of await filePartitions(spec)) {
      if (parsePartition(partition)?.stream === stream) records.push(...found);
    }
  }
  return records.sort((a, b) => JSON.stringify(a.date ?? a.id).localeCompare(JSON.stringify(b.date ?? b.id)));
}

export async function databaseOf(spec: DestinationSpec) {
  if (spec.type !== 'postgres') throw new Error('not postgres');
  const pg = await sharedPostgres();
  return postgres(spec.url!, { password: pg.password, onnotice: () => {} });
}

/** Multipart uploads still open in the bucket (an abandoned upload is a leftover). */
export async function openUploads(spec: S3Spec): Promise<string[]> {
  const client = await s3ClientFor(spec);
  const page = await client.send(new ListMultipartUploadsCommand({ Bucket: spec.bucket }));
  client.destroy();
  return (page.Uploads ?? []).map((upload) => upload.Key!);
}
