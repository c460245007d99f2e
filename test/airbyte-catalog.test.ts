// `spec` and `discover`: both answers checked against the Airbyte protocol's definitions, the spec's
// connectionSpecification against our config parser, and every record of every stream, as we write
// it from the simulator's answers, against its stream's JSON schema.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { airbyteCatalog } from '../src/airbyte/catalog.ts';
import { airbyteSpec, DRAFT_07, type JsonSchema } from '../src/airbyte/spec.ts';
import { normaliseEventLine } from '../src/amplitude/event-record.ts';
import {
  activeUsersRecords,
  averageSessionLengthRecords,
  SNAPSHOT_RECORDS,
} from '../src/amplitude/records.ts';
import { STREAM_NAMES, STREAMS, type StreamName } from '../src/amplitude/streams.ts';
import { parseConfig } from '../src/config.ts';
import type { Simulator } from '../src/simulator/index.ts';
import { decodeExport, exportPath, get, getJson, hour, simulator } from './simulator/helpers.ts';

/** Columns of the events stream in Airbyte source-amplitude 0.6.19's schema (its manifest's events_stream). */
const AIRBYTE_EVENT_COLUMNS = 55;

/** The definitions of the Airbyte protocol (airbyte_protocol.yaml) that `spec` and `discover` answer with. */
const PROTOCOL = {
  $id: 'airbyte-protocol',
  definitions: {
    SyncMode: { type: 'string', enum: ['full_refresh', 'incremental'] },
    DestinationSyncMode: { type: 'string', enum: ['append', 'overwrite', 'append_dedup'] },
    ConnectorSpecification: {
      type: 'object',
      additionalProperties: true,
      required: ['connectionSpecification'],
      properties: {
        documentationUrl: { type: 'string', format: 'uri' },
        changelogUrl: { type: 'string', format: 'uri' },
        connectionSpecification: { type: 'object' },
        supportsIncremental: { type: 'boolean' },
        supportsNormalization: { type: 'boolean' },
        supportsDBT: { type: 'boolean' },
        supported_destination_sync_modes: {
          type: 'array',
          items: { $ref: '#/definitions/DestinationSyncMode' },
        },
        advanced_auth: { type: 'object' },
        protocol_version: { type: 'string' },
      },
    },
    AirbyteCatalog: {
      type: 'object',
      additionalProperties: true,
      required: ['streams'],
      properties: { streams: { type: 'array', items: { $ref: '#/definitions/AirbyteStream' } } },
    },
    AirbyteStream: {
      type: 'object',
      additionalProperties: true,
      required: ['name', 'json_schema', 'supported_sync_modes'],
      properties: {
        name: { type: 'string' },
        json_schema: { type: 'object' },
        supported_sync_modes: { type: 'array', minItems: 1, items: { $ref: '#/definitions/SyncMode' } },
        source_defined_cursor: { type: 'boolean' },
        default_cursor_field: { type: 'array', items: { type: 'string' } },
        source_defined_primary_key: { type: 'array', items: { type: 'array', items: { type: 'string' } } },
        namespace: { type: 'string' },
        is_resumable: { type: 'boolean' },
      },
    },
  },
};

function newAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  addFormats.default(ajv);
  ajv.addKeyword({ keyword: 'airbyte_secret', metaSchema: { type: 'boolean' } });
  // Airbyte names draft-07 with https (`https://json-schema.org/draft-07/schema#`): the same meta-schema.
  const draft07 = ajv.getSchema('http://json-schema.org/draft-07/schema')!.schema as JsonSchema;
  ajv.addMetaSchema({ ...draft07, $id: DRAFT_07 });
  ajv.addSchema(PROTOCOL);
  return ajv;
}

const ajv = newAjv();

function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return ajv.errorsText(errors, { separator: '; ' });
}

/** A draft-07 schema, checked against the meta-schema, compiled in strict mode. */
function compileSchema(schema: JsonSchema, what: string): ValidateFunction {
  assert.equal(schema.$schema, DRAFT_07, `${what} names draft-07`);
  assert.ok(
    ajv.validateSchema(schema),
    `${what} is not a valid draft-07 schema: ${describeErrors(ajv.errors)}`,
  );
  return ajv.compile(schema);
}

function assertProtocol(definition: string, value: unknown): void {
  const validate = ajv.getSchema(`airbyte-protocol#/definitions/${definition}`)!;
  assert.ok(validate(value), `not an Airbyte ${definition}: ${describeErrors(validate.errors)}`);
}

// ---------------------------------------------------------------------------------------------- spec

const connectionSpecification = airbyteSpec().connectionSpecification;
const validateConfig = compileSchema(connectionSpecification, 'connectionSpecification');
const properties = connectionSpecification.properties as Record<string, JsonSchema>;

const AIRBYTE_CONFIG = {
  api_key: 'k',
  secret_key: 's',
  start_date: '2024-01-01T00:00:00Z',
  data_region: 'Standard Server',
  request_time_range: 24,
};

function withConfig(fields: Record<string, unknown>): Record<string, unknown> {
  return { ...AIRBYTE_CONFIG, ...fields };
}

function without(field: string): Record<string, unknown> {
  const config: Record<string, unknown> = { ...AIRBYTE_CONFIG };
  delete config[field];
  return config;
}

function parses(config: Record<string, unknown>): boolean {
  try {
    parseConfig(config, {});
    return true;
  } catch {
    return false;
  }
}

test('spec is an Airbyte ConnectorSpecification whose connectionSpecification is a draft-07 schema', () => {
  const spec = airbyteSpec();
  assertProtocol('ConnectorSpecification', spec);
  assert.equal(spec.documentationUrl, 'https://docs.airbyte.com/integrations/sources/amplitude');
  assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec, 'plain JSON data');
  assert.notEqual(
    airbyteSpec().connectionSpecification,
    spec.connectionSpecification,
    'a new object each call',
  );
});

test("spec keeps Airbyte source-amplitude 0.6.19's fields as they are", () => {
  assert.equal(connectionSpecification.title, 'Amplitude Spec');
  assert.equal(connectionSpecification.type, 'object');
  assert.equal(connectionSpecification.additionalProperties, true);
  assert.deepEqual(connectionSpecification.required, ['api_key', 'secret_key', 'start_date']);
  const pick = (field: string, ...keys: string[]) =>
    Object.fromEntries(
      keys.filter((key) => key in properties[field]!).map((key) => [key, properties[field]![key]]),
    );
  assert.deepEqual(pick('data_region', 'type', 'title', 'enum', 'default'), {
    type: 'string',
    title: 'Data region',
    enum: ['Standard Server', 'EU Residency Server'],
    default: 'Standard Server',
  });
  assert.deepEqual(pick('api_key', 'type', 'title', 'airbyte_secret'), {
    type: 'string',
    title: 'API Key',
    airbyte_secret: true,
  });
  assert.deepEqual(pick('secret_key', 'type', 'title', 'airbyte_secret'), {
    type: 'string',
    title: 'Secret Key',
    airbyte_secret: true,
  });
  assert.deepEqual(pick('start_date', 'type', 'format', 'title', 'pattern', 'examples'), {
    type: 'string',
    format: 'date-time',
    title: 'Replication Start Date',
    pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$',
    examples: ['2021-01-25T00:00:00Z'],
  });
  assert.deepEqual(pick('request_time_range', 'type', 'title', 'default', 'minimum', 'maximum'), {
    type: 'integer',
    title: 'Request time range',
    default: 24,
    minimum: 1,
    maximum: 8760,
  });
  assert.deepEqual(pick('active_users_group_by_country', 'type', 'title', 'default'), {
    type: 'boolean',
    title: 'Active Users Group by Country',
    default: true,
  });
  for (const [field, schema] of Object.entries(properties)) {
    assert.equal(typeof schema.title, 'string', `${field} has a title`);
    assert.equal(typeof schema.description, 'string', `${field} has a description`);
  }
});

test('an Airbyte config file validates, and so do configs with our fields', () => {
  const configs = [
    AIRBYTE_CONFIG,
    { api_key: 'k', secret_key: 's', start_date: '2024-01-01T00:00:00Z' },
    withConfig({ data_region: 'EU Residency Server', active_users_group_by_country: false }),
    withConfig({
      streams: ['events', 'cohorts'],
      destination: { type: 'local', path: '/data/amplitude' },
      base_url: 'http://127.0.0.1:8080',
      export_availability_lag_hours: 0,
      export_lookback_hours: 168,
      export_recheck_days: 90,
      export_windows_in_flight: 4,
      project_timezone: 'Europe/Berlin',
    }),
    withConfig({ destination: { path: './old-style' } }),
    withConfig({
      destination: {
        type: 's3',
        bucket: 'my-lake',
        prefix: 'amplitude/',
        region: 'auto',
        endpoint: 'https://example.r2.cloudflarestorage.com',
        force_path_style: true,
      },
    }),
    withConfig({
      destination: { type: 'postgres', url: 'postgres://sync@db:5432/analytics', schema: 'amp' },
    }),
    withConfig({
      destination: {
        type: 'postgres',
        host: 'db.internal',
        port: 5432,
        database: 'analytics',
        user: 'amplitude_sync',
        password_file: '/run/secrets/pg',
      },
    }),
  ];
  for (const config of configs) {
    assert.ok(validateConfig(config), `${JSON.stringify(config)}: ${describeErrors(validateConfig.errors)}`);
    assert.ok(parses(config), `our parser takes ${JSON.stringify(config)} too`);
  }
  assert.equal(validateConfig(without('api_key')), false, 'a config without api_key is refused');
  assert.match(describeErrors(validateConfig.errors), /must have required property 'api_key'/);
});

test('the schema and our parser agree on what is valid, except where Airbyte rules on purpose', () => {
  const cases: Array<[string, Record<string, unknown>, { schema: boolean; parser: boolean }?]> = [
    ['no api_key', without('api_key')],
    ['no secret_key', without('secret_key')],
    ['no start_date', without('start_date')],
    ['start_date with a space', withConfig({ start_date: '2024-01-01 00:00:00' })],
    ['unknown data_region', withConfig({ data_region: 'Mars' })],
    ['request_time_range 0', withConfig({ request_time_range: 0 })],
    ['request_time_range 1', withConfig({ request_time_range: 1 })],
    ['request_time_range 8760', withConfig({ request_time_range: 8760 })],
    ['request_time_range 8761', withConfig({ request_time_range: 8761 })],
    ['request_time_range 1.5', withConfig({ request_time_range: 1.5 })],
    ['request_time_range "24"', withConfig({ request_time_range: '24' })],
    ['group by country "yes"', withConfig({ active_users_group_by_country: 'yes' })],
    ['every stream', withConfig({ streams: [...STREAM_NAMES] })],
    ['no stream', withConfig({ streams: [] })],
    ['unknown stream', withConfig({ streams: ['events', 'funnels'] })],
    ['streams as a string', withConfig({ streams: 'events' })],
    ['unknown destination type', withConfig({ destination: { type: 'ftp' } })],
    ['local path empty', withConfig({ destination: { type: 'local', path: '' } })],
    ['local path blank', withConfig({ destination: { type: 'local', path: '   ' } })],
    ['local, unknown field', withConfig({ destination: { type: 'local', path: 'x', bucket: 'b' } })],
    ['s3 without bucket', withConfig({ destination: { type: 's3' } })],
    ['s3 bucket not a name', withConfig({ destination: { type: 's3', bucket: 'My_Bucket' } })],
    [
      's3 endpoint ftp',
      withConfig({ destination: { type: 's3', bucket: 'lake', endpoint: 'ftp://x.example' } }),
    ],
    [
      's3 force_path_style "yes"',
      withConfig({ destination: { type: 's3', bucket: 'lake', force_path_style: 1 } }),
    ],
    ['s3 unknown field', withConfig({ destination: { type: 's3', bucket: 'lake', secret: 'x' } })],
    ['postgres alone', withConfig({ destination: { type: 'postgres' } })],
    ['postgres url http', withConfig({ destination: { type: 'postgres', url: 'http://db/analytics' } })],
    [
      'postgres url with a password',
      withConfig({ destination: { type: 'postgres', url: 'postgres://sync:hunter2@db:5432/analytics' } }),
    ],
    [
      'postgresql url',
      withConfig({ destination: { type: 'postgres', url: 'postgresql://sync@db/analytics' } }),
    ],
    ['postgres port 0', withConfig({ destination: { type: 'postgres', port: 0 } })],
    ['postgres port 65536', withConfig({ destination: { type: 'postgres', port: 65536 } })],
    ['postgres schema 1abc', withConfig({ destination: { type: 'postgres', schema: '1abc' } })],
    ['postgres host blank', withConfig({ destination: { type: 'postgres', host: ' ' } })],
    ['base_url without scheme', withConfig({ base_url: 'amplitude.com' })],
    ['base_url https', withConfig({ base_url: 'https://proxy.example/amplitude' })],
    ['lag -1', withConfig({ export_availability_lag_hours: -1 })],
    ['lag 73', withConfig({ export_availability_lag_hours: 73 })],
    ['lookback 169', withConfig({ export_lookback_hours: 169 })],
    ['lookback 0', withConfig({ export_lookback_hours: 0 })],
    ['recheck 0', withConfig({ export_recheck_days: 0 })],
    ['recheck 91', withConfig({ export_recheck_days: 91 })],
    ['windows 0', withConfig({ export_windows_in_flight: 0 })],
    ['windows 32', withConfig({ export_windows_in_flight: 32 })],
    ['windows 33', withConfig({ export_windows_in_flight: 33 })],
    ['time zone a number', withConfig({ project_timezone: 1 })],
    // Where they differ: the schema keeps Airbyte's rule, or cannot express ours.
    ['start_date as a bare date', withConfig({ start_date: '2024-01-01' }), { schema: false, parser: true }],
    [
      'start_date with an offset',
      withConfig({ start_date: '2024-01-01T00:00:00+02:00' }),
      { schema: false, parser: true },
    ],
    ['unknown top-level field', withConfig({ lookback_window: 2 }), { schema: true, parser: false }],
    ['empty api_key', withConfig({ api_key: '' }), { schema: true, parser: false }],
    [
      'unknown time zone',
      withConfig({ project_timezone: 'Mars/Olympus_Mons' }),
      { schema: true, parser: false },
    ],
  ];
  for (const [name, config, differs] of cases) {
    const schema = validateConfig(config);
    const parser = parses(config);
    if (differs) assert.deepEqual({ schema, parser }, differs, name);
    else assert.equal(schema, parser, `${name}: schema says ${schema}, parser says ${parser}`);
  }
});

test("spec lists every field our parser takes, with the parser's defaults", () => {
  let message = '';
  try {
    parseConfig(withConfig({ zzzzzzzz: 1 }), {});
  } catch (error) {
    message = (error as Error).message;
  }
  const known = /known fields are (.+)$/m.exec(message)?.[1]?.split(', ');
  assert.ok(known, `the parser names its fields: ${message}`);
  assert.deepEqual(Object.keys(properties).sort(), [...known].sort());

  const parsed = parseConfig(AIRBYTE_CONFIG, {}) as unknown as Record<string, unknown>;
  for (const [field, schema] of Object.entries(properties)) {
    if ('default' in schema) assert.deepEqual(parsed[field], schema.default, `default of ${field}`);
    else if (!['api_key', 'secret_key', 'start_date'].includes(field)) {
      assert.equal(parsed[field], undefined, `${field} has no default`);
    }
  }
  const options = (properties.destination!.oneOf as JsonSchema[]).map(
    (option) => option.properties as Record<string, JsonSchema>,
  );
  const minimal = [{ type: 'local' }, { type: 's3', bucket: 'lake' }, { type: 'postgres' }];
  options.forEach((option, index) => {
    const destination = parseConfig(withConfig({ destination: minimal[index] }), {}).destination as Record<
      string,
      unknown
    >;
    for (const [field, schema] of Object.entries(option)) {
      if ('default' in schema)
        assert.deepEqual(destination[field], schema.default, `default of destination.${field}`);
    }
  });
});

// ------------------------------------------------------------------------------------------- discover

const catalog = airbyteCatalog();
const streamsByName = new Map(catalog.streams.map((stream) => [stream.name, stream]));

test('discover is an Airbyte catalog of the six streams, keys and cursors as in streams.ts', () => {
  assertProtocol('AirbyteCatalog', catalog);
  assert.deepEqual(JSON.parse(JSON.stringify(catalog)), catalog, 'plain JSON data');
  assert.deepEqual(
    catalog.streams.map((stream) => stream.name),
    [...STREAM_NAMES],
  );
  for (const name of STREAM_NAMES) {
    const stream = streamsByName.get(name)!;
    const { primaryKey, cursorField } = STREAMS[name];
    assert.deepEqual(stream.source_defined_primary_key, [[primaryKey]], `${name} primary key`);
    if (cursorField) {
      assert.deepEqual(stream.supported_sync_modes, ['full_refresh', 'incremental'], name);
      assert.equal(stream.source_defined_cursor, true, name);
      assert.deepEqual(stream.default_cursor_field, [cursorField], name);
    } else {
      assert.deepEqual(stream.supported_sync_modes, ['full_refresh'], name);
      assert.equal(stream.default_cursor_field, undefined, name);
    }
    const columns = Object.keys(stream.json_schema.properties as object);
    assert.ok(columns.includes(primaryKey), `${name} has its primary key ${primaryKey}`);
    if (cursorField) assert.ok(columns.includes(cursorField), `${name} has its cursor ${cursorField}`);
  }
  // What Airbyte's source-amplitude 0.6.19 declares.
  const keys = Object.fromEntries(
    catalog.streams.map((stream) => [
      stream.name,
      [
        stream.supported_sync_modes.length,
        stream.default_cursor_field ?? [],
        stream.source_defined_primary_key,
      ],
    ]),
  );
  assert.deepEqual(keys, {
    events: [2, ['server_upload_time'], [['uuid']]],
    active_users: [2, ['date'], [['date']]],
    average_session_length: [2, ['date'], [['date']]],
    annotations: [1, [], [['id']]],
    cohorts: [1, [], [['id']]],
    events_list: [1, [], [['id']]],
  });
});

test("events has every column of Airbyte's events schema, typed as Airbyte types them", () => {
  const columns = streamsByName.get('events')!.json_schema.properties as Record<string, JsonSchema>;
  assert.equal(Object.keys(columns).length, AIRBYTE_EVENT_COLUMNS);
  const typeOf = (column: string) => {
    const { type, format } = columns[column]!;
    return format ? `${type}:${format}` : String(type);
  };
  const byType = new Map<string, string[]>();
  for (const column of Object.keys(columns).sort()) {
    byType.set(typeOf(column), [...(byType.get(typeOf(column)) ?? []), column]);
  }
  assert.deepEqual(Object.fromEntries(byType), {
    'null,string': [
      '$insert_id',
      '$insert_key',
      'adid',
      'amplitude_attribution_ids',
      'amplitude_event_type',
      'city',
      'country',
      'data_type',
      'device_brand',
      'device_carrier',
      'device_family',
      'device_id',
      'device_manufacturer',
      'device_model',
      'device_type',
      'dma',
      'event_type',
      'idfa',
      'ip_address',
      'language',
      'library',
      'os_name',
      'os_version',
      'partner_id',
      'platform',
      'region',
      'source_id',
      'start_version',
      'user_id',
      'uuid',
      'version_name',
    ],
    'null,integer': ['$schema', 'amplitude_id', 'app', 'event_id'],
    'null,number': ['location_lat', 'location_lng', 'session_id'],
    'null,boolean': ['is_attribution_event', 'paying'],
    'null,object': [
      'data',
      'event_properties',
      'global_user_properties',
      'group_properties',
      'groups',
      'plan',
      'user_properties',
    ],
    'null,string,number': ['sample_rate'],
    'null,string:date-time': [
      'client_event_time',
      'client_upload_time',
      'event_time',
      'processed_time',
      'server_received_time',
      'server_upload_time',
      'user_creation_time',
    ],
  });
});

test("the other five streams have Airbyte's columns, typed as Airbyte types them", () => {
  const typesOf = (name: StreamName) =>
    Object.fromEntries(
      Object.entries(streamsByName.get(name)!.json_schema.properties as Record<string, JsonSchema>).map(
        ([column, { type, format, items }]) => [
          column,
          [
            [type]
              .flat()
              .filter((t) => t !== 'null')
              .join('|'),
            format ?? (items as JsonSchema)?.type ?? '',
          ].join(':'),
        ],
      ),
    );
  assert.deepEqual(typesOf('active_users'), { date: 'string:date', statistics: 'object:' });
  // Airbyte declares average_session_length.date as a date-time; see catalog.ts for why it is a date here.
  assert.deepEqual(typesOf('average_session_length'), { date: 'string:date', length: 'number:' });
  assert.deepEqual(typesOf('annotations'), {
    date: 'string:date',
    details: 'string:',
    id: 'integer:',
    label: 'string:',
  });
  assert.deepEqual(typesOf('cohorts'), {
    appId: 'integer:',
    archived: 'boolean:',
    chart_id: 'string:',
    createdAt: 'integer:',
    definition: 'object:',
    description: 'string:',
    edit_id: 'string:',
    finished: 'boolean:',
    hidden: 'boolean:',
    id: 'string:',
    is_official_content: 'boolean:',
    is_predictive: 'boolean:',
    lastComputed: 'integer:',
    lastMod: 'integer:',
    last_viewed: 'integer:',
    location_id: 'string:',
    metadata: 'array:string',
    name: 'string:',
    owners: 'array:string',
    popularity: 'integer:',
    published: 'boolean:',
    shortcut_ids: 'array:string',
    size: 'integer:',
    type: 'string:',
    view_count: 'integer:',
    viewers: 'array:string',
  });
  assert.deepEqual(typesOf('events_list'), {
    autohidden: 'boolean:',
    clusters_hidden: 'boolean:',
    deleted: 'boolean:',
    display: 'string:',
    flow_hidden: 'boolean:',
    hidden: 'boolean:',
    id: 'number:',
    in_waitroom: 'boolean:',
    name: 'string:',
    non_active: 'boolean:',
    timeline_hidden: 'boolean|number:',
    totals: 'number:',
    totals_delta: 'number:',
    value: 'string:',
  });
  assert.deepEqual(streamsByName.get('events_list')!.json_schema.required, ['id']);
});

// -------------------------------------------------------------------------------------------- records

const validators = new Map<StreamName, ValidateFunction>(
  catalog.streams.map((stream) => [
    stream.name,
    compileSchema(stream.json_schema, `${stream.name}'s schema`),
  ]),
);

function assertRecordsValid(
  stream: StreamName,
  records: unknown[],
  validate = validators.get(stream)!,
): void {
  assert.ok(records.length > 0, `${stream}: no records to check`);
  for (const [index, record] of records.entries()) {
    if (!validate(record)) {
      assert.fail(
        `${stream} record ${index} does not validate: ${describeErrors(validate.errors)}\n${JSON.stringify(record)}`,
      );
    }
  }
}

let sim: Simulator;
before(async () => {
  sim = await simulator();
});
after(() => sim.close());

async function dashboardBody(path: string): Promise<unknown> {
  const { status, json } = await getJson(sim, path);
  assert.equal(status, 200, `${path}: ${JSON.stringify(json)}`);
  return json;
}

test("every event of a day of exports, as we write it, validates against events' schema", async () => {
  const response = await get(sim, exportPath(hour(1, 0), hour(1, 23)));
  assert.equal(response.status, 200);
  const lines = decodeExport(response.body).flatMap((member) => member.lines);
  assert.ok(lines.length > 1000, `a day of events (${lines.length})`);
  const records = lines.map((line) => JSON.parse(normaliseEventLine(line).line) as Record<string, unknown>);
  assertRecordsValid('events', records);

  const columns = Object.keys(streamsByName.get('events')!.json_schema.properties as object).sort();
  for (const record of records) assert.deepEqual(Object.keys(record).sort(), columns, 'the same 55 keys');
  const sample = records[0]!;
  assert.match(String(sample.server_upload_time), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?\+00:00$/);

  // The validation is live: a schema that types amplitude_id as a string refuses these records.
  const broken = structuredClone(streamsByName.get('events')!.json_schema);
  (broken.properties as Record<string, JsonSchema>).amplitude_id = { type: ['null', 'string'] };
  const validateBroken = ajv.compile(broken);
  assert.equal(validateBroken(sample), false);
});

test('every active_users record validates, grouped by country or not', async () => {
  const range = 'start=20240229&end=20240304';
  const records = [
    ...activeUsersRecords(
      await dashboardBody(`${STREAMS.active_users.endpoint}?${range}&m=active&i=1&g=country`),
    ),
    ...activeUsersRecords(await dashboardBody(`${STREAMS.active_users.endpoint}?${range}&m=active&i=1`)),
  ];
  assertRecordsValid('active_users', records);
});

test('every average_session_length record validates', async () => {
  const body = await dashboardBody(`${STREAMS.average_session_length.endpoint}?start=20240229&end=20240304`);
  assertRecordsValid('average_session_length', averageSessionLengthRecords(body));
});

test('every annotations, cohorts and events_list record validates', async () => {
  for (const stream of ['annotations', 'cohorts', 'events_list'] as const) {
    const records = SNAPSHOT_RECORDS[stream](await dashboardBody(STREAMS[stream].endpoint));
    assertRecordsValid(stream, records);
  }
});
