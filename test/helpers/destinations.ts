// Destinations of every type for tests, each in its own place on the run's shared servers: a local
// directory, a bucket, a database.
import { randomUUID } from 'node:crypto';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import type { PostgresSpec, S3Spec } from '../../src/destination/spec.ts';
import { temporaryDirectory } from './harness.ts';
import { sharedPostgres, sharedS3 } from './shared-servers.ts';

/** The environment a worker needs for the test servers: AWS keys of the S3 server, the database password. */
export async function destinationEnv(): Promise<Record<string, string>> {
  const [s3, pg] = await Promise.all([sharedS3(), sharedPostgres()]);
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_REGION: s3.region,
    PGPASSWORD: pg.password,
  };
}

/** Puts the test servers' credentials in this process's environment, where the AWS chain and PGPASSWORD are read. */
export async function useTestCredentials(): Promise<void> {
  Object.assign(process.env, await destinationEnv());
}

export async function newBucket(): Promise<S3Spec> {
  const s3 = await sharedS3();
  const bucket = `t-${randomUUID().slice(0, 12)}`;
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return {
    type: 's3',
    bucket,
    prefix: 'amplitude/',
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
  };
}

export async function newDatabase(): Promise<PostgresSpec & { superuserUrl: string }> {
  const pg = await sharedPostgres();
  const database = `t_${randomUUID().slice(0, 12).replaceAll('-', '')}`;
  const admin = postgres(pg.url, { onnotice: () => {} });
  await admin.unsafe(`create database ${database}`);
  await admin.end();
  return {
    type: 'postgres',
    url: `postgres://${pg.user}@${pg.host}:${pg.port}/${database}`,
    schema: 'amplitude',
    superuserUrl: pg.url.replace(/\/[^/]*$/, `/${database}`),
  };
}

export async function newLocal(): Promise<{ type: 'local'; path: string }> {
  return { type: 'local', path: await temporaryDirectory('dest-') };
}
