// Where a connection's data goes, as the workflows carry it: no secret in here (credentials come from
// the worker's environment), so it may travel through Temporal. Pure: workflow code imports it.

/** How file partitions are compressed: gzip (the default, read everywhere) or zstd (faster, smaller). */
export type Compression = 'gzip' | 'zstd';

export interface LocalSpec {
  type: 'local';
  /** Absolute path of the root directory. */
  path: string;
  compression?: Compression;
  /**
   * Partitions are read back at once and then deleted (`read`'s scratch directory): written through
   * the page cache, where reading them back finds them, not straight to disk.
   */
  readBack?: boolean;
}

export interface S3Spec {
  type: 's3';
  bucket: string;
  /** Key prefix, '' or ending in '/'. */
  prefix: string;
  region?: string;
  /** Any S3-compatible endpoint (GCS interoperability, R2, MinIO, Ceph...); AWS when absent. */
  endpoint?: string;
  forcePathStyle: boolean;
  compression?: Compression;
}

export interface PostgresSpec {
  type: 'postgres';
  /** `postgres://user@host:port/database` without a password. */
  url?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  schema: string;
  /** A file on the worker holding the password (else PGPASSWORD on the worker). */
  passwordFile?: string;
}

export type DestinationSpec = LocalSpec | S3Spec | PostgresSpec;

/** The compression of a destination's partitions (postgres names its slices as gzip files do). */
export function compressionOf(value: string | DestinationSpec): Compression {
  const spec = destinationSpec(value);
  return spec.type === 'postgres' ? 'gzip' : (spec.compression ?? 'gzip');
}

/** Settings of earlier versions carry the local root as a plain path. */
export function destinationSpec(value: string | DestinationSpec): DestinationSpec {
  return typeof value === 'string' ? { type: 'local', path: value } : value;
}

/** Where the data goes, for people: a path, s3://bucket/prefix, or postgres://host/database (schema). */
export function describeDestination(value: string | DestinationSpec): string {
  const spec = destinationSpec(value);
  switch (spec.type) {
    case 'local':
      return spec.path;
    case 's3':
      return `s3://${spec.bucket}/${spec.prefix}${spec.endpoint ? ` at ${spec.endpoint}` : ''}`;
    case 'postgres': {
      const where =
        spec.url ??
        `postgres://${spec.user ?? ''}@${spec.host ?? 'localhost'}:${spec.port ?? 5432}/${spec.database ?? ''}`;
      return `${where} (schema ${spec.schema})`;
    }
  }
}
