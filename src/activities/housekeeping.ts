// Before a sync: the destination must be writable (a sync that cannot write fails at once, naming the
// path and the fix, instead of retrying for minutes). Before and after: what interrupted syncs of the
// connection left behind is removed.
import { destinationFailure, toFailure } from '../amplitude/errors.ts';
import type { LeftoversRemoved } from '../destination/destination.ts';
import type { OpenDestination } from '../destination/open.ts';
import type { DestinationSpec } from '../destination/spec.ts';

export interface DestinationInput {
  runKey: string;
  destination: string | DestinationSpec;
}

export interface HousekeepingDeps {
  destination: OpenDestination;
}

/** Proves the destination reachable and writable, creating what is missing; nothing else. */
export async function checkDestination(deps: HousekeepingDeps, input: DestinationInput): Promise<void> {
  const destination = await deps.destination(input.destination, input.runKey);
  try {
    await destination.check();
  } catch (error) {
    throw destinationFailure(error, `destination ${destination.location}`);
  }
}

export async function prepareDestination(
  deps: HousekeepingDeps,
  input: DestinationInput,
): Promise<LeftoversRemoved> {
  await checkDestination(deps, input);
  return removeLeftovers(deps, input);
}

export async function removeLeftovers(
  deps: HousekeepingDeps,
  input: DestinationInput,
): Promise<LeftoversRemoved> {
  try {
    return await (await deps.destination(input.destination, input.runKey)).removeLeftovers(input.runKey);
  } catch (error) {
    throw toFailure(error, 'removing leftovers of interrupted syncs');
  }
}

export interface StateInput {
  /** The connection's name as its manifests are filed (`connectionOf` a run key). */
  connection: string;
  destination: string | DestinationSpec;
}

/** The state the connection's newest sync recorded in the destination (its manifest), if any. */
export async function lastSyncState(deps: HousekeepingDeps, input: StateInput): Promise<unknown> {
  const destination = await deps.destination(input.destination, `${input.connection}/state`);
  try {
    return (await destination.latestState(input.connection)) ?? null;
  } catch (error) {
    throw destinationFailure(error, `reading the last state from ${destination.location}`);
  }
}
