// What `spec` answers: the ConnectorSpecification of Airbyte's source-amplitude 0.6.19 (its six
// fields with the same names, types, titles, defaults, enum, pattern, secrets and required list, and
// `additionalProperties: true` as Airbyte has it), followed by our own optional fields, described as
// src/config.ts parses them. Pure data: nothing here reads the environment.
//
// Where our parser and this schema differ on purpose (the schema keeps Airbyte's rule):
// - api_key / secret_key are required here; our parser also takes them from AMPLITUDE_API_KEY /
//   AMPLITUDE_SECRET_KEY.
// - start_date must match Airbyte's `YYYY-MM-DDTHH:mm:ssZ` here; our parser also takes any RFC 3339
//   time with an offset, or a bare `YYYY-MM-DD`.
// - Unknown top-level fields pass here (Airbyte's `additionalProperties: true`); our parser refuses
//   them, so that a typo never falls back to a default.
// No field of ours holds a secret: the destination's credentials (PGPASSWORD, the AWS chain) come
// from the worker's environment, `password_file` names a file, and a password inside a postgres
// `url` is refused.
import { STREAM_NAMES } from '../amplitude/streams.ts';
import { DATA_REGIONS } from '../config.ts';

/** A JSON Schema (draft-07) document or subschema, as plain data. */
export type JsonSchema = { [keyword: string]: unknown };

/** The Airbyte protocol's ConnectorSpecification, the part of it a source fills in. */
export interface AirbyteConnectorSpecification {
  documentationUrl: string;
  connectionSpecification: JsonSchema;
  [field: string]: unknown;
}

export const DRAFT_07 = 'https://json-schema.org/draft-07/schema#';

const DOCUMENTATION_URL = 'https://docs.airbyte.com/integrations/sources/amplitude';

/** At least one character that is not white space (our parser trims before it checks). */
const NOT_BLANK = '\\S';

/** Airbyte's six fields, as source-amplitude 0.6.19 declares them. */
function airbyteProperties(): Record<string, JsonSchema> {
  return {
    data_region: {
      type: 'string',
      title: 'Data region',
      description: 'The Amplitude data center the project lives in.',
      enum: [...DATA_REGIONS],
      default: 'Standard Server',
    },
    api_key: {
      type: 'string',
      title: 'API Key',
      description:
        "The project's API key, from Amplitude's project settings (Settings → Projects → the project → General).",
      airbyte_secret: true,
    },
    secret_key: {
      type: 'string',
      title: 'Secret Key',
      description: "The project's secret key, found next to the API key in Amplitude's project settings.",
      airbyte_secret: true,
    },
    start_date: {
      type: 'string',
      format: 'date-time',
      title: 'Replication Start Date',
      pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$',
      description:
        'UTC time from which data is copied, as YYYY-MM-DDTHH:mm:ssZ (for example 2021-01-25T00:00:00Z). Nothing before it is read.',
      examples: ['2021-01-25T00:00:00Z'],
    },
    request_time_range: {
      type: 'integer',
      title: 'Request time range',
      description:
        'Hours of events asked for in one Export API request. Amplitude times out (or refuses more than 4 GB) on ranges too large for the volume: use fewer hours then.',
      default: 24,
      minimum: 1,
      maximum: 8760,
    },
    active_users_group_by_country: {
      type: 'boolean',
      title: 'Active Users Group by Country',
      description:
        'Ask Amplitude for active users per country (g=country). Turn it off if the active_users stream or the connection check fails because of it.',
      default: true,
    },
  };
}

function localDestination(): JsonSchema {
  return {
    type: 'object',
    title: 'Local directory',
    description: 'Compressed NDJSON files under a directory of the worker (or a volume the workers share).',
    // A destination without `type` is a local one (configs of earlier versions give only the path).
    additionalProperties: false,
    properties: {
      type: { type: 'string', const: 'local', default: 'local' },
      path: {
        type: 'string',
        title: 'Path',
        description: 'The root directory; relative paths are resolved on the machine that starts the sync.',
        pattern: NOT_BLANK,
        default: './amplitude-data',
      },
      compression: compressionProperty(),
    },
  };
}

/** The codec of file partitions, for local and s3. */
function compressionProperty(): JsonSchema {
  return {
    type: 'string',
    title: 'Compression',
    description:
      'gzip (.jsonl.gz, read by every tool; when left out) or zstd (.jsonl.zst: about twice as fast and a third smaller; needs Node.js 22.15 or later on the workers).',
    enum: ['gzip', 'zstd'],
  };
}

function s3Destination(): JsonSchema {
  return {
    type: 'object',
    title: 'S3-compatible object store',
    description:
      'The same files as objects in a bucket of AWS S3 or any S3-compatible store. Credentials come from the standard AWS chain on each worker.',
    required: ['type', 'bucket'],
    additionalProperties: false,
    properties: {
      type: { type: 'string', const: 's3', default: 's3' },
      bucket: {
        type: 'string',
        title: 'Bucket',
        description: 'The bucket name (3 to 63 of a-z, 0-9, "." and "-").',
        pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
      },
      prefix: {
        type: 'string',
        title: 'Key prefix',
        description: 'Prefix of every key, such as "amplitude/" (a trailing "/" is added when missing).',
        default: '',
      },
      region: {
        type: 'string',
        title: 'Region',
        description: "The bucket's region, such as eu-west-1 (else the AWS SDK's default).",
        pattern: NOT_BLANK,
      },
      endpoint: {
        type: 'string',
        format: 'uri',
        pattern: '^https?://',
        title: 'Endpoint',
        description:
          'The http(s) URL of a store other than AWS: GCS interoperability, Cloudflare R2, MinIO, Ceph...',
      },
      force_path_style: {
        type: 'boolean',
        title: 'Path-style addressing',
        description: 'Address the bucket in the path instead of the host name (most non-AWS stores need it).',
        default: false,
      },
      compression: compressionProperty(),
    },
  };
}

function postgresDestination(): JsonSchema {
  const text = (title: string, description: string): JsonSchema => ({
    type: 'string',
    title,
    description,
    pattern: NOT_BLANK,
  });
  return {
    type: 'object',
    title: 'PostgreSQL',
    description:
      'Tables in a PostgreSQL schema. The password comes from PGPASSWORD on the worker, or from password_file.',
    required: ['type'],
    additionalProperties: false,
    properties: {
      type: { type: 'string', const: 'postgres', default: 'postgres' },
      url: {
        type: 'string',
        title: 'Connection URL',
        description:
          'postgres://user@host:port/database, without a password (one in the URL is refused: it would travel through Temporal).',
        pattern: '^postgres(ql)?://(?![^/@]*:[^/@]*@)',
      },
      host: text('Host', 'The server host name (or set it in url).'),
      port: {
        type: 'integer',
        title: 'Port',
        description: 'The server port (or set it in url).',
        minimum: 1,
        maximum: 65535,
      },
      database: text('Database', 'The database name (or set it in url).'),
      user: text('User', 'The user name (or set it in url).'),
      schema: {
        type: 'string',
        title: 'Schema',
        description: 'The schema that holds the tables, a plain identifier.',
        pattern: '^[A-Za-z_][A-Za-z0-9_]{0,62}$',
        default: 'amplitude',
      },
      password_file: text(
        'Password file',
        'A file on the worker that holds the password (the Docker/Kubernetes secrets convention); else PGPASSWORD.',
      ),
    },
  };
}

/** Our fields, as src/config.ts's connectionSchema takes them (bounds and defaults alike). */
function ourProperties(): Record<string, JsonSchema> {
  const integer = (title: string, description: string, bounds: [number, number], fallback?: number) => ({
    type: 'integer',
    title,
    description,
    minimum: bounds[0],
    maximum: bounds[1],
    ...(fallback === undefined ? {} : { default: fallback }),
  });
  return {
    streams: {
      type: 'array',
      title: 'Streams',
      description: 'The streams to sync; all six when left out.',
      items: { type: 'string', enum: [...STREAM_NAMES] },
      minItems: 1,
      default: [...STREAM_NAMES],
    },
    destination: {
      type: 'object',
      title: 'Destination',
      description: 'Where the data goes: a local directory, an S3-compatible bucket, or PostgreSQL.',
      oneOf: [localDestination(), s3Destination(), postgresDestination()],
      default: { type: 'local', path: './amplitude-data' },
    },
    base_url: {
      type: 'string',
      format: 'uri',
      pattern: '^https?://',
      title: 'Base URL',
      description:
        "Replaces the data region's host (https://amplitude.com or https://analytics.eu.amplitude.com), for proxies and tests.",
    },
    export_availability_lag_hours: integer(
      'Export availability lag (hours)',
      'An upload hour is read only once it ended this many hours ago (Amplitude needs about 2).',
      [0, 72],
      3,
    ),
    export_lookback_hours: integer(
      'Export lookback (hours)',
      'Hours before the watermark that every sync reads again, for late data.',
      [0, 168],
      6,
    ),
    export_recheck_days: integer(
      'Export re-check (days)',
      'Days an hour Amplitude answered 404 for is asked again by every sync; also the days the count reconciliation covers.',
      [1, 90],
      7,
    ),
    export_windows_in_flight: integer(
      'Export windows in flight',
      "Export windows downloading at once per sync, over all the task queue's workers (the workers' default, 2, when left out).",
      [1, 32],
    ),
    project_timezone: {
      type: 'string',
      title: 'Project time zone',
      description: "The Amplitude project's IANA time zone: a dashboard day counts once it has ended there.",
      default: 'UTC',
      examples: ['UTC', 'America/New_York', 'Europe/Berlin'],
    },
  };
}

/** The answer to `spec`. A new object each call. */
export function airbyteSpec(): AirbyteConnectorSpecification {
  return {
    documentationUrl: DOCUMENTATION_URL,
    connectionSpecification: {
      $schema: DRAFT_07,
      title: 'Amplitude Spec',
      type: 'object',
      required: ['api_key', 'secret_key', 'start_date'],
      additionalProperties: true,
      properties: { ...airbyteProperties(), ...ourProperties() },
    },
  };
}
