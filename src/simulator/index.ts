export type { Annotation } from './dashboard-data.ts';
export type { EventsPerHour } from './event-volume.ts';
export type { Endpoint, FaultInjector, FaultKind, FaultRule } from './faults.ts';
export type { GroundTruth } from './ground-truth.ts';
export { TIMESTAMP_FIELDS } from './ground-truth.ts';
export type { Credentials, Region, SimulatorOptions } from './options.ts';
export { DEFAULT_CREDENTIALS } from './options.ts';
export type { RequestLogEntry, Simulator } from './server.ts';
export { startSimulator } from './server.ts';
