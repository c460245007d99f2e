// What `discover` answers: the six streams with the JSON schemas of Airbyte's source-amplitude 0.6.19
// (same columns, same types), their sync modes, cursors and primary keys. Which streams exist and
// their keys and cursors come from src/amplitude/streams.ts, the one stream catalog.
//
// Every record we write validates against these schemas (test/airbyte-catalog.test.ts checks it on
// the simulator's data). Where Airbyte's schema would refuse what we (and Airbyte) really emit, the
// schema here is changed, and the change is marked "Differs from Airbyte" below.
import { STREAM_NAMES, STREAMS, type StreamName } from '../amplitude/streams.ts';
import { DRAFT_07, type JsonSchema } from './spec.ts';

export type SyncMode = 'full_refresh' | 'incremental';

/** The Airbyte protocol's AirbyteStream. */
export interface AirbyteStream {
  name: StreamName;
  json_schema: JsonSchema;
  supported_sync_modes: SyncMode[];
  source_defined_cursor?: boolean;
  default_cursor_field?: string[];
  source_defined_primary_key: string[][];
  is_resumable: boolean;
}

export interface AirbyteCatalog {
  streams: AirbyteStream[];
}

type ColumnType = 'string' | 'integer' | 'number' | 'boolean' | 'object' | 'date-time' | 'date';

/** A nullable column, typed as Airbyte types it (`["null", type]`, timestamps as strings with a format). */
function column(type: ColumnType, description: string, extra: JsonSchema = {}): JsonSchema {
  if (type === 'date-time' || type === 'date') {
    return { description, type: ['null', 'string'], format: type, ...extra };
  }
  return { description, type: ['null', type], ...extra };
}

function stringList(description: string): JsonSchema {
  return { description, type: ['null', 'array'], items: { type: 'string' } };
}

function objectSchema(properties: Record<string, JsonSchema>, extra: JsonSchema = {}): JsonSchema {
  return { $schema: DRAFT_07, type: 'object', properties, ...extra };
}

/**
 * An exported event: the 55 keys of the Export API. The seven timestamps are RFC 3339 with `+00:00`
 * (rewritten by src/amplitude/event-record.ts as Airbyte rewrites them); everything else is as sent.
 */
function eventsSchema(): JsonSchema {
  return objectSchema({
    $insert_id: column('string', 'Deduplication id the sender gave the event.'),
    $insert_key: column('string', 'Insert key (undocumented; null in practice).'),
    $schema: column('integer', 'Schema version of the event (null in practice).'),
    adid: column('string', 'Android advertising id.'),
    // Amplitude's docs disagree (string, or array); Airbyte types it string, and so do we.
    amplitude_attribution_ids: column('string', 'Attribution ids Amplitude assigned.'),
    amplitude_event_type: column('string', "Amplitude's own event type (deprecated, null)."),
    amplitude_id: column('integer', "Amplitude's id of the user."),
    app: column('integer', 'The project id.'),
    city: column('string', 'City, from GeoIP.'),
    client_event_time: column('date-time', 'When the device recorded the event.'),
    client_upload_time: column('date-time', 'When the device uploaded the event.'),
    country: column('string', 'Country, from GeoIP.'),
    data: column('object', 'Ingestion metadata (path, user_properties_updated, group ids...).'),
    data_type: column('string', 'Kind of row, "event".'),
    device_brand: column('string', 'Device brand (deprecated, null).'),
    device_carrier: column('string', 'Mobile carrier.'),
    device_family: column('string', 'Device family, such as "Apple iPhone".'),
    device_id: column('string', 'Device id.'),
    device_manufacturer: column('string', 'Device manufacturer (deprecated, null).'),
    device_model: column('string', 'Device model (deprecated, null).'),
    device_type: column('string', 'Device type, such as "Google Pixel 8".'),
    dma: column('string', 'Designated Market Area, from GeoIP.'),
    event_id: column('integer', 'Event counter of the device (not unique on its own).'),
    event_properties: column('object', 'The properties the sender gave the event.'),
    event_time: column('date-time', "When the event happened, by Amplitude's clock (what charts use)."),
    event_type: column('string', 'Event name.'),
    global_user_properties: column('object', 'Global user properties (undocumented; null in practice).'),
    group_properties: column('object', 'Properties of the groups the event belongs to.'),
    groups: column('object', 'Groups (accounts) the event belongs to.'),
    idfa: column('string', 'iOS advertising id.'),
    ip_address: column('string', 'IP address of the sender.'),
    is_attribution_event: column('boolean', 'Whether this is an attribution event (deprecated, null).'),
    language: column('string', 'Language of the device.'),
    library: column('string', 'SDK or API that sent the event, such as "amplitude-ts/2.5.0".'),
    location_lat: column('number', 'Latitude.'),
    location_lng: column('number', 'Longitude.'),
    os_name: column('string', 'Operating system or browser name.'),
    os_version: column('string', 'Operating system or browser version.'),
    partner_id: column('string', 'Partner id (undocumented; null in practice).'),
    paying: column('boolean', 'Whether the user has paid (null until then).'),
    plan: column('object', 'Tracking plan the event was checked against.', {
      properties: {
        branch: column('string', 'Tracking plan branch.'),
        source: column('string', 'Tracking plan source.'),
        version: column('string', 'Tracking plan version.'),
      },
    }),
    platform: column('string', 'Platform, such as Web, iOS or Android.'),
    processed_time: column('date-time', 'When Amplitude processed the event.'),
    region: column('string', 'Region, from GeoIP.'),
    sample_rate: {
      description: 'Sampling rate (documented as always null).',
      type: ['null', 'string', 'number'],
    },
    server_received_time: column('date-time', "When Amplitude's servers received the event."),
    server_upload_time: column('date-time', 'When the event was stored; what the Export API selects on.'),
    session_id: column('number', 'Session start in epoch milliseconds; -1 outside a session.'),
    source_id: column('string', 'Source id (undocumented; null in practice).'),
    start_version: column('string', 'App version the user started with.'),
    user_creation_time: column('date-time', 'When the user was first seen (deprecated, null).'),
    user_id: column('string', 'User id the sender gave; null for anonymous users.'),
    user_properties: column('object', 'User properties as of the event.'),
    uuid: column('string', 'Unique id of the event row.'),
    version_name: column('string', 'App version.'),
  });
}

function activeUsersSchema(): JsonSchema {
  return objectSchema({
    date: column('date', 'The day (project-local), YYYY-MM-DD.'),
    statistics: column(
      'object',
      'Active users of the day per series label: per country with group-by-country, else under "0".',
    ),
  });
}

function averageSessionLengthSchema(): JsonSchema {
  return objectSchema({
    // Differs from Airbyte: Airbyte declares `format: date-time`, but the value (Amplitude's xValue,
    // which Airbyte's connector emits unchanged as we do) is a day, `YYYY-MM-DD`, that a date-time
    // validator refuses. Declared as a date, like active_users.date.
    date: column('date', 'The day (project-local), YYYY-MM-DD.'),
    length: column('number', 'Average session length of the day, in seconds.'),
  });
}

function annotationsSchema(): JsonSchema {
  return objectSchema({
    date: column('date', 'The day the annotation marks, YYYY-MM-DD.'),
    details: column('string', 'Longer text of the annotation.'),
    id: column('integer', 'Annotation id.'),
    label: column('string', 'Title of the annotation.'),
  });
}

function cohortsSchema(): JsonSchema {
  return objectSchema({
    appId: column('integer', 'The project id.'),
    archived: column('boolean', 'Whether the cohort is archived.'),
    chart_id: column('string', 'Chart the cohort was made from.'),
    createdAt: column('integer', 'Creation time, epoch seconds.'),
    definition: column('object', "The cohort's definition (Amplitude-internal)."),
    description: column('string', 'Description of the cohort.'),
    edit_id: column('string', 'Edit (version) id.'),
    finished: column('boolean', 'Whether the last computation finished.'),
    hidden: column('boolean', 'Whether the cohort is hidden.'),
    id: column('string', 'Cohort id.'),
    is_official_content: column('boolean', 'Whether the cohort is marked official.'),
    is_predictive: column('boolean', 'Whether the cohort is predictive.'),
    lastComputed: column('integer', 'Last computation time, epoch seconds.'),
    lastMod: column('integer', 'Last modification time, epoch seconds.'),
    last_viewed: column('integer', 'Last view time.'),
    location_id: column('string', 'Space (folder) the cohort is in.'),
    metadata: stringList('Metadata tags.'),
    name: column('string', 'Cohort name.'),
    owners: stringList('Owners (e-mail addresses).'),
    popularity: column('integer', 'Popularity score.'),
    published: column('boolean', 'Whether the cohort is published.'),
    shortcut_ids: stringList('Shortcut ids.'),
    size: column('integer', 'Number of members.'),
    type: column('string', 'Kind of cohort, such as "redshift".'),
    view_count: column('integer', 'Number of views.'),
    viewers: stringList('Viewers (e-mail addresses).'),
  });
}

function eventsListSchema(): JsonSchema {
  // Airbyte declares `$schema: http://json-schema.org/schema#` (no draft) here; this catalog is
  // draft-07 throughout, like Airbyte's other five schemas.
  return objectSchema(
    {
      autohidden: column('boolean', 'Whether Amplitude hid the event type by itself.'),
      clusters_hidden: column('boolean', 'Whether it is hidden in Compass (clusters).'),
      deleted: column('boolean', 'Whether the event type is deleted.'),
      display: column('string', 'Display name.'),
      flow_hidden: column('boolean', 'Whether it is hidden in Pathfinder (flows).'),
      hidden: column('boolean', 'Whether it is hidden.'),
      id: { description: 'Event type id.', type: 'number' },
      in_waitroom: column('boolean', 'Whether it awaits approval in the tracking plan.'),
      name: column('string', 'Event type name.'),
      non_active: column('boolean', 'Whether it is marked inactive.'),
      timeline_hidden: {
        description: 'Whether it is hidden in the user timeline.',
        type: ['null', 'boolean', 'number'],
      },
      totals: column('number', "This week's count of the event."),
      totals_delta: column('number', "Change of this week's count from last week's."),
      value: column('string', 'Event type name as queried.'),
    },
    { required: ['id'], additionalProperties: true },
  );
}

const SCHEMAS: Record<StreamName, () => JsonSchema> = {
  events: eventsSchema,
  active_users: activeUsersSchema,
  average_session_length: averageSessionLengthSchema,
  annotations: annotationsSchema,
  cohorts: cohortsSchema,
  events_list: eventsListSchema,
};

/** One stream as `discover` lists it; a new object each call. */
export function airbyteStream(name: StreamName): AirbyteStream {
  const { primaryKey, cursorField } = STREAMS[name];
  return {
    name,
    json_schema: SCHEMAS[name](),
    supported_sync_modes: cursorField ? ['full_refresh', 'incremental'] : ['full_refresh'],
    ...(cursorField ? { source_defined_cursor: true, default_cursor_field: [cursorField] } : {}),
    source_defined_primary_key: [[primaryKey]],
    is_resumable: cursorField !== undefined,
  };
}

/** The answer to `discover`: every stream, in STREAM_NAMES order. */
export function airbyteCatalog(): AirbyteCatalog {
  return { streams: STREAM_NAMES.map(airbyteStream) };
}
