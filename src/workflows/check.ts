import { proxyActivities } from '@temporalio/workflow';
import type { CheckResult } from '../activities/check.ts';
import type { Activities } from '../activities/index.ts';
import { type DestinationSpec, describeDestination } from '../destination/spec.ts';

const { checkConnection, checkDestination } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  summary: 'verify credentials and data region with one authenticated call',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

export interface CheckInput {
  /** Also proves the destination reachable and writable (schema and tables created for postgres). */
  destination?: string | DestinationSpec;
}

/**
 * The connection check: fails fast, non-retryably, on a bad key, a key of the other data region, or a
 * destination that cannot be written (naming the problem and the fix).
 */
export async function check(input: CheckInput = {}): Promise<CheckResult & { destination?: string }> {
  const amplitude = await checkConnection();
  if (!input.destination) return amplitude;
  await checkDestination.executeWithOptions(
    { summary: `destination ${describeDestination(input.destination)}` },
    [{ destination: input.destination, runKey: 'check/check' }],
  );
  return { ...amplitude, destination: `${describeDestination(input.destination)}: writable` };
}
