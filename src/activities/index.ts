// Activities are built once per worker around the dependencies it owns (the Amplitude client and its
// credentials); workflow code only ever sees their types.
import type { AmplitudeClient } from '../amplitude/client.ts';
import { checkConnection } from './check.ts';

export interface ActivityDeps {
  amplitude: AmplitudeClient;
}

export function createActivities(deps: ActivityDeps) {
  return {
    checkConnection: () => checkConnection(deps.amplitude),
  };
}

export type Activities = ReturnType<typeof createActivities>;
