// The stream catalog: every stream this connector syncs, and how each one is read.

export const STREAM_NAMES = [
  'events',
  'active_users',
  'average_session_length',
  'annotations',
  'cohorts',
  'events_list',
] as const;

export type StreamName = (typeof STREAM_NAMES)[number];

export type StreamKind = 'export' | 'dashboard' | 'snapshot';

export interface StreamDefinition {
  name: StreamName;
  kind: StreamKind;
  /** Amplitude endpoint, for messages and docs. */
  endpoint: string;
  primaryKey: string;
  cursorField?: string;
}

export const STREAMS: Record<StreamName, StreamDefinition> = {
  events: {
    name: 'events',
    kind: 'export',
    endpoint: '/api/2/export',
    primaryKey: 'uuid',
    cursorField: 'server_upload_time',
  },
  active_users: {
    name: 'active_users',
    kind: 'dashboard',
    endpoint: '/api/2/users',
    primaryKey: 'date',
    cursorField: 'date',
  },
  average_session_length: {
    name: 'average_session_length',
    kind: 'dashboard',
    endpoint: '/api/2/sessions/average',
    primaryKey: 'date',
    cursorField: 'date',
  },
  annotations: { name: 'annotations', kind: 'snapshot', endpoint: '/api/2/annotations', primaryKey: 'id' },
  cohorts: { name: 'cohorts', kind: 'snapshot', endpoint: '/api/3/cohorts', primaryKey: 'id' },
  events_list: { name: 'events_list', kind: 'snapshot', endpoint: '/api/2/events/list', primaryKey: 'id' },
};

export function isStreamName(value: string): value is StreamName {
  return (STREAM_NAMES as readonly string[]).includes(value);
}
