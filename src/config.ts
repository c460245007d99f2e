// A connection's configuration: Airbyte source-amplitude's fields (an Airbyte config file works
// unchanged) plus our documented optional fields. Parsing never lets a bad value through: every
// problem names the field and the fix.
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { z } from 'zod';
import { isStreamName, STREAM_NAMES, type StreamName } from './amplitude/streams.ts';
import { parseStartDate, START_DATE_FORMS } from './amplitude/time.ts';
import { zstdAvailable } from './destination/codec.ts';
import type { DestinationSpec } from './destination/spec.ts';
import type { SyncSettings } from './workflows/types.ts';

export const DATA_REGIONS = ['Standard Server', 'EU Residency Server'] as const;
export type DataRegion = (typeof DATA_REGIONS)[number];

export const REGION_BASE_URLS: Record<DataRegion, string> = {
  'Standard Server': 'https://amplitude.com',
  'EU Residency Server': 'https://analytics.eu.amplitude.com',
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

const nonEmpty = (field: string, env: string) =>
  z
    .string({
      error: (issue) =>
        issue.input === undefined
          ? `${field} is required: set it in the config file or in ${env}`
          : `${field} must be a string (in quotes): copy it from Amplitude's project settings`,
    })
    .trim()
    .min(1, `${field} is empty: copy it from Amplitude's project settings (or set ${env})`);

const compressionField = z
  .enum(['gzip', 'zstd'], { error: 'destination.compression must be "gzip" or "zstd"' })
  .optional()
  .refine((value) => value !== 'zstd' || zstdAvailable(), {
    error: `destination.compression "zstd" needs Node.js 22.15 or later (this is ${process.version}): use "gzip" or a newer Node`,
  });

const connectionSchema = z.strictObject({
  api_key: nonEmpty('api_key', 'AMPLITUDE_API_KEY'),
  secret_key: nonEmpty('secret_key', 'AMPLITUDE_SECRET_KEY'),
  start_date: z
    .string({ error: `start_date is required: ${START_DATE_FORMS}` })
    .refine((v) => parseStartDate(v) !== undefined, {
      error: `start_date is not a valid time: ${START_DATE_FORMS}`,
    }),
  data_region: z
    .enum(DATA_REGIONS, { error: `data_region must be "Standard Server" or "EU Residency Server"` })
    .default('Standard Server'),
  request_time_range: z
    .number({ error: 'request_time_range must be a whole number of hours between 1 and 8760' })
    .int('request_time_range must be a whole number of hours between 1 and 8760')
    .min(1, 'request_time_range must be at least 1 hour')
    .max(8760, 'request_time_range must be at most 8760 hours (365 days, Amplitude’s export limit)')
    .default(24),
  active_users_group_by_country: z
    .boolean({ error: 'active_users_group_by_country must be true or false' })
    .default(true),

  streams: z
    .array(z.string(), { error: `streams must be a list of stream names: ${STREAM_NAMES.join(', ')}` })
    .min(1, `streams is empty: list at least one of ${STREAM_NAMES.join(', ')}, or leave it out for all`)
    .superRefine((names, ctx) => {
      for (const name of names) {
        if (!isStreamName(name)) {
          ctx.addIssue({
            code: 'custom',
            message: `unknown stream "${name}": use ${STREAM_NAMES.join(', ')}`,
          });
        }
      }
    })
    .default([...STREAM_NAMES]),
  destination: z
    .preprocess(
      // A destination without a type is a local one (configs of earlier versions give only the path).
      (value) =>
        value && typeof value === 'object' && !Array.isArray(value) && !('type' in value)
          ? { type: 'local', ...value }
          : value,
      z.discriminatedUnion(
        'type',
        [
          z.strictObject({
            type: z.literal('local'),
            path: z
              .string()
              .trim()
              .min(1, 'destination.path is empty: name a directory')
              .default('./amplitude-data'),
            compression: compressionField,
          }),
          z.strictObject({
            type: z.literal('s3'),
            bucket: z
              .string({ error: 'destination.bucket is required: the name of the bucket' })
              .trim()
              .regex(
                /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
                'destination.bucket is not a bucket name (3-63 of a-z 0-9 . -)',
              ),
            prefix: z
              .string({ error: 'destination.prefix must be a string such as "amplitude/"' })
              .default('')
              .transform((prefix) =>
                (prefix && !prefix.endsWith('/') ? `${prefix}/` : prefix).replace(/^\/+/, ''),
              ),
            region: z.string().trim().min(1).optional(),
            endpoint: z
              .url({
                protocol: /^https?$/,
                error: 'destination.endpoint must be an http(s) URL such as "https://s3.example.com"',
              })
              .optional(),
            force_path_style: z
              .boolean({ error: 'destination.force_path_style must be true or false' })
              .default(false),
            compression: compressionField,
          }),
          z.strictObject({
            type: z.literal('postgres'),
            url: z
              .string()
              .regex(/^postgres(ql)?:\/\//, 'destination.url must start with postgres://')
              .refine((url) => !/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(url), {
                error:
                  'destination.url holds a password, which would travel through Temporal: remove it and set PGPASSWORD (or destination.password_file) on the workers',
              })
              .optional(),
            host: z.string().trim().min(1).optional(),
            port: z.number().int().min(1).max(65535).optional(),
            database: z.string().trim().min(1).optional(),
            user: z.string().trim().min(1).optional(),
            schema: z
              .string()
              .regex(
                /^[A-Za-z_][A-Za-z0-9_]{0,62}$/,
                'destination.schema must be a plain identifier such as "amplitude"',
              )
              .default('amplitude'),
            password_file: z.string().trim().min(1).optional(),
          }),
        ],
        { error: 'destination.type must be "local", "s3" or "postgres"' },
      ),
    )
    .default({ type: 'local', path: './amplitude-data' }),
  base_url: z
    .url({ protocol: /^https?$/, error: 'base_url must be an http(s) URL such as "https://amplitude.com"' })
    .optional(),
  export_availability_lag_hours: z
    .number({ error: 'export_availability_lag_hours must be a number of hours (0 to 72)' })
    .int('export_availability_lag_hours must be a whole number of hours')
    .min(0, 'export_availability_lag_hours cannot be negative')
    .max(72, 'export_availability_lag_hours above 72 would hold back three days of data')
    .default(3),
  export_lookback_hours: z
    .number({ error: 'export_lookback_hours must be a number of hours (0 to 168)' })
    .int('export_lookback_hours must be a whole number of hours')
    .min(0, 'export_lookback_hours cannot be negative')
    .max(168, 'export_lookback_hours above 168 (a week) re-reads too much on every sync')
    .default(6),
  export_recheck_days: z
    .number({ error: 'export_recheck_days must be a number of days (1 to 90)' })
    .int('export_recheck_days must be a whole number of days')
    .min(1, 'export_recheck_days must be at least 1: a single 404 is no proof that an hour is empty')
    .max(90, 'export_recheck_days above 90 keeps asking for hours Amplitude will not serve any more')
    .default(7),
  export_windows_in_flight: z
    .number({ error: 'export_windows_in_flight must be a whole number of export windows (1 to 32)' })
    .int('export_windows_in_flight must be a whole number')
    .min(1, 'export_windows_in_flight must be at least 1')
    .max(32, 'export_windows_in_flight above 32 mostly earns 429s from Amplitude')
    .optional(),
  project_timezone: z
    .string({ error: 'project_timezone must be an IANA time zone name such as "UTC" or "America/New_York"' })
    .refine(isTimeZone, {
      error: 'project_timezone is not a known IANA time zone: use e.g. "UTC" or "Europe/Berlin"',
    })
    .default('UTC'),
});

export type ConnectionConfig = Omit<z.output<typeof connectionSchema>, 'streams'> & { streams: StreamName[] };

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const field = issue.path.join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys
          .map((key) => `- ${field ? `${field}.` : ''}${key}: unknown field; ${suggest(key)}`)
          .join('\n');
      }
      return `- ${field || '(config)'}: ${issue.message}`;
    })
    .join('\n');
}

function suggest(key: string): string {
  const known = Object.keys(connectionSchema.shape);
  const close = known.find((k) => k.startsWith(key.slice(0, 5)) || key.startsWith(k.slice(0, 5)));
  return close ? `did you mean "${close}"?` : `known fields are ${known.join(', ')}`;
}

export interface ParseOptions {
  /**
   * False when the caller only starts syncs on a Temporal cluster: the workers there hold the
   * credentials, so the config may leave them out (they are then empty strings).
   */
  requireCredentials?: boolean;
}

const HELD_BY_WORKERS = '(held by the workers)';

/** Validates a parsed config object; credentials may come from AMPLITUDE_API_KEY / AMPLITUDE_SECRET_KEY. */
export function parseConfig(
  raw: unknown,
  env: NodeJS.ProcessEnv = process.env,
  source = 'config',
  options: ParseOptions = {},
): ConnectionConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: expected a JSON object with api_key, secret_key and start_date`);
  }
  const withEnv: Record<string, unknown> = { ...raw };
  withEnv.api_key ??= env.AMPLITUDE_API_KEY;
  withEnv.secret_key ??= env.AMPLITUDE_SECRET_KEY;
  if (options.requireCredentials === false) {
    withEnv.api_key ??= HELD_BY_WORKERS;
    withEnv.secret_key ??= HELD_BY_WORKERS;
  }
  const result = connectionSchema.safeParse(withEnv);
  if (!result.success) {
    throw new ConfigError(`${source} is invalid, nothing was started:\n${describeIssues(result.error)}`);
  }
  const config = result.data as ConnectionConfig;
  if (config.api_key === HELD_BY_WORKERS) config.api_key = '';
  if (config.secret_key === HELD_BY_WORKERS) config.secret_key = '';
  return config;
}

export async function loadConfigFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
  options: ParseOptions = {},
): Promise<ConnectionConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  return parseConfig(raw, env, `config file ${path}`, options);
}

export function startDateMs(config: Pick<ConnectionConfig, 'start_date'>): number {
  return parseStartDate(config.start_date)!;
}

export function amplitudeBaseUrl(config: Pick<ConnectionConfig, 'base_url' | 'data_region'>): string {
  return (config.base_url ?? REGION_BASE_URLS[config.data_region]).replace(/\/+$/, '');
}

/** The non-secret part of a connection, as the sync workflow receives it. */
export function syncSettings(config: ConnectionConfig): SyncSettings {
  return {
    streams: config.streams,
    startDate: new Date(startDateMs(config)).toISOString(),
    requestTimeRangeHours: config.request_time_range,
    activeUsersGroupByCountry: config.active_users_group_by_country,
    exportAvailabilityLagHours: config.export_availability_lag_hours,
    exportLookbackHours: config.export_lookback_hours,
    exportRecheckDays: config.export_recheck_days,
    projectTimezone: config.project_timezone,
    destination: destinationOf(config),
    ...(config.export_windows_in_flight
      ? { tuning: { exportConcurrency: config.export_windows_in_flight } }
      : {}),
  };
}

/** The connection's destination as the workflows carry it (a local path made absolute). */
export function destinationOf(config: Pick<ConnectionConfig, 'destination'>): DestinationSpec {
  const destination = config.destination;
  switch (destination.type) {
    case 'local':
      return {
        type: 'local',
        path: resolve(destination.path),
        ...(destination.compression ? { compression: destination.compression } : {}),
      };
    case 's3':
      return {
        type: 's3',
        bucket: destination.bucket,
        prefix: destination.prefix,
        forcePathStyle: destination.force_path_style,
        ...(destination.region ? { region: destination.region } : {}),
        ...(destination.endpoint ? { endpoint: destination.endpoint } : {}),
        ...(destination.compression ? { compression: destination.compression } : {}),
      };
    case 'postgres':
      return {
        type: 'postgres',
        schema: destination.schema,
        ...(destination.url ? { url: destination.url } : {}),
        ...(destination.host ? { host: destination.host } : {}),
        ...(destination.port ? { port: destination.port } : {}),
        ...(destination.database ? { database: destination.database } : {}),
        ...(destination.user ? { user: destination.user } : {}),
        ...(destination.password_file ? { passwordFile: destination.password_file } : {}),
      };
  }
}
