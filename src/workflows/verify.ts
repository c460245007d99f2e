// `amplitude-sync verify`: the count reconciliation of a connection's last days, on its own. Hours it
// finds without any exported event while Amplitude counts some are returned as re-check entries; the
// next sync started from the command line asks Amplitude for them again.
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { ReconcileResult } from '../activities/reconcile.ts';
import { DAY_MS } from '../amplitude/time.ts';
import { fileSafe } from '../destination/layout.ts';
import { DEFAULT_RECHECK_DAYS } from './plans/export.ts';
import { addReconciledHours, type RecheckEntry } from './recheck.ts';
import type { SyncSettings } from './types.ts';

export interface VerifyInput {
  settings: SyncSettings;
  /** The connection (its sync's workflow ID), whose manifests hold the exported counts. */
  connection: string;
  days: number;
  /** The events watermark: days that ended before it are compared. */
  before: string;
}

export interface VerifyResult extends ReconcileResult {
  recheck: RecheckEntry[];
}

const { reconcileCounts } = proxyActivities<Activities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { initialInterval: '2 seconds', maximumAttempts: 3 },
  summary: "compare exported events per day with Amplitude's own daily totals",
});

export async function verify(input: VerifyInput): Promise<VerifyResult> {
  const { settings } = input;
  const result = await reconcileCounts({
    runKey: `${fileSafe(input.connection)}/verify_${workflowInfo().runId}`,
    destination: settings.destination,
    days: input.days,
    before: input.before,
    startDate: settings.startDate,
    projectTimezone: settings.projectTimezone,
  });
  const recheckMs = (settings.exportRecheckDays ?? DEFAULT_RECHECK_DAYS) * DAY_MS;
  return {
    ...result,
    recheck: addReconciledHours(undefined, result.differing, Date.now() + recheckMs) ?? [],
  };
}
