import { proxyActivities } from '@temporalio/workflow';
import type { CheckResult } from '../activities/check.ts';
import type { Activities } from '../activities/index.ts';

const { checkConnection } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  summary: 'verify credentials and data region with one authenticated call',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

/** The connection check: fails fast, non-retryably, on a bad key or a key of the other data region. */
export async function check(): Promise<CheckResult> {
  return await checkConnection();
}
