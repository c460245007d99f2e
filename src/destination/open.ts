// Opens a connection's destination on the worker. The clients a destination needs (an S3 client, a
// PostgreSQL pool) are made once per destination and shared by every activity of the worker;
// credentials come from the worker's environment, never from Temporal.
import type { Destination } from './destination.ts';
import { LocalDestination } from './local.ts';
import { type DestinationSpec, destinationSpec } from './spec.ts';

export type OpenDestination = (spec: string | DestinationSpec, runKey: string) => Destination;

export interface Destinations {
  open: OpenDestination;
  /** Closes the shared clients (at worker shutdown). */
  close(): Promise<void>;
}

export function destinations(): Destinations {
  return {
    open(value, runKey) {
      const spec = destinationSpec(value);
      switch (spec.type) {
        case 'local':
          return new LocalDestination(spec.path, runKey);
        default:
          throw new Error(`the ${spec.type} destination is not available in this worker`);
      }
    },
    async close() {},
  };
}
