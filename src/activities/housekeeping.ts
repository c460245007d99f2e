// Before a sync: the destination must be writable (a sync that cannot write fails at once, naming the
// path and the fix, instead of retrying for minutes). Before and after: what interrupted syncs of the
// connection left behind is removed.
import { fileSystemFailure, toFailure } from '../amplitude/errors.ts';
import type { LeftoversRemoved, LocalDestination } from '../destination/local.ts';

export interface DestinationInput {
  runKey: string;
  destination: string;
}

export interface HousekeepingDeps {
  destination(root: string, runKey: string): LocalDestination;
}

export async function prepareDestination(
  deps: HousekeepingDeps,
  input: DestinationInput,
): Promise<LeftoversRemoved> {
  const destination = deps.destination(input.destination, input.runKey);
  try {
    await destination.checkWritable();
  } catch (error) {
    throw fileSystemFailure(error, `destination ${destination.root}`) ?? toFailure(error);
  }
  return removeLeftovers(deps, input);
}

export async function removeLeftovers(
  deps: HousekeepingDeps,
  input: DestinationInput,
): Promise<LeftoversRemoved> {
  try {
    return await deps.destination(input.destination, input.runKey).removeLeftovers(input.runKey);
  } catch (error) {
    throw toFailure(error, 'removing leftovers of interrupted syncs');
  }
}
