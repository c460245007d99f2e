// Opens a connection's destination on the worker. The clients a destination needs (an S3 client, a
// PostgreSQL pool) are made once per destination and shared by every activity of the worker, and their
// libraries are loaded only when a destination of their kind is first opened (a worker that writes
// files never loads the AWS SDK); credentials come from the worker's environment, never from Temporal.
import { readFile } from 'node:fs/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Sql } from 'postgres';
import { type Destination, DestinationError } from './destination.ts';
import { LocalDestination } from './local.ts';
import {
  type DestinationSpec,
  describeDestination,
  destinationSpec,
  type PostgresSpec,
  type S3Spec,
} from './spec.ts';
import { removeStaleStaging, stagingDirectory } from './staging.ts';

/** Opens a destination; the clients of s3 and postgres are loaded when first needed. */
export type OpenDestination = (
  spec: string | DestinationSpec,
  runKey: string,
) => Destination | Promise<Destination>;

export interface Destinations {
  open: OpenDestination;
  /** Closes the shared clients (at worker shutdown). */
  close(): Promise<void>;
}

async function s3Client(spec: S3Spec): Promise<S3Client> {
  const { S3Client } = await import('@aws-sdk/client-s3');
  return new S3Client({
    region: spec.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1',
    forcePathStyle: spec.forcePathStyle,
    ...(spec.endpoint
      ? {
          endpoint: spec.endpoint,
          // S3-compatible stores do not all know the newer integrity checksums: send them only when required.
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
          responseChecksumValidation: 'WHEN_REQUIRED' as const,
        }
      : {}),
  });
}

/** The password, read on the worker when a connection is made: from the file the spec names, else PGPASSWORD. */
async function password(spec: PostgresSpec): Promise<string> {
  if (spec.passwordFile) {
    try {
      return (await readFile(spec.passwordFile, 'utf8')).trim();
    } catch (error) {
      throw new DestinationError(
        `the password file ${spec.passwordFile} (destination.password_file) cannot be read on this worker: ${(error as Error).message}`,
      );
    }
  }
  return process.env.PGPASSWORD ?? '';
}

async function postgresPool(spec: PostgresSpec): Promise<Sql> {
  const { default: postgres } = await import('postgres');
  const options = {
    max: 4,
    idle_timeout: 30,
    connect_timeout: 15,
    onnotice: () => {},
    password: () => password(spec),
  };
  if (spec.url) return postgres(spec.url, options);
  return postgres({
    ...options,
    ...(spec.host ? { host: spec.host } : {}),
    ...(spec.port ? { port: spec.port } : {}),
    ...(spec.database ? { database: spec.database } : {}),
    ...(spec.user ? { username: spec.user } : {}),
  });
}

export function destinations(): Destinations {
  const staging = stagingDirectory();
  void removeStaleStaging().catch(() => {});
  const s3 = new Map<string, Promise<S3Client>>();
  const pools = new Map<string, Promise<Sql>>();
  return {
    async open(value, runKey) {
      const spec = destinationSpec(value);
      const key = JSON.stringify(spec);
      switch (spec.type) {
        case 'local':
          return new LocalDestination(spec.path, runKey, spec.compression, !spec.readBack);
        case 's3': {
          const client = s3.get(key) ?? s3Client(spec);
          s3.set(key, client);
          const { S3Destination } = await import('./s3.ts');
          return new S3Destination(await client, spec, runKey, staging);
        }
        case 'postgres': {
          const pool = pools.get(key) ?? postgresPool(spec);
          pools.set(key, pool);
          const { PostgresDestination } = await import('./postgres.ts');
          return new PostgresDestination(await pool, spec, describeDestination(spec), runKey, staging);
        }
      }
    },
    async close() {
      for (const client of await Promise.all(s3.values())) client.destroy();
      await Promise.all([...pools.values()].map(async (pool) => (await pool).end({ timeout: 5 })));
    },
  };
}
