// Says on the terminal, once per retry, what a running sync is waiting for: the failure Temporal will
// retry, when, and which attempt comes next. Read from the workflows' pending activities, so it works
// the same with the embedded worker and with workers on a cluster.
import type { Client } from '@temporalio/client';

interface Timestamp {
  seconds?: number | { toNumber(): number } | null;
  nanos?: number | null;
}

function toMs(timestamp: Timestamp | null | undefined): number | undefined {
  if (!timestamp?.seconds) return undefined;
  const seconds = typeof timestamp.seconds === 'number' ? timestamp.seconds : timestamp.seconds.toNumber();
  return seconds * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6);
}

/** Our failure messages end in what happens next ("; retrying with backoff"): the line says it instead. */
function withoutPlan(message: string): string {
  if (/heartbeat timeout/i.test(message))
    return 'the previous attempt stopped answering (its worker went away)';
  return message.replace(/;\s*(retrying|asking again)[^;]*$/, '').trim();
}

export interface RetryLine {
  workflowId: string;
  activityId: string;
  attempt: number;
  text: string;
}

/** One line per pending retry of the workflows `ids`, not seen before in `seen`. */
export async function pendingRetries(client: Client, ids: string[], seen: Set<string>): Promise<RetryLine[]> {
  const lines: RetryLine[] = [];
  for (const workflowId of ids) {
    let pending: Awaited<
      ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>
    >['raw']['pendingActivities'];
    try {
      pending = (await client.workflow.getHandle(workflowId).describe()).raw.pendingActivities ?? [];
    } catch {
      continue;
    }
    for (const activity of pending) {
      const message = activity.lastFailure?.message;
      const attempt = activity.attempt ?? 0;
      if (!message || attempt < 2) continue;
      const key = `${workflowId}#${activity.activityId}#${attempt}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const next = toMs(activity.nextAttemptScheduleTime as Timestamp | undefined);
      const wait =
        next === undefined ? '' : `next try in ${Math.max(0, Math.round((next - Date.now()) / 1000))} s, `;
      const of = (activity.maximumAttempts ?? 0) > 0 ? ` of ${activity.maximumAttempts}` : '';
      const stream = workflowId.includes('/') ? workflowId.slice(workflowId.lastIndexOf('/') + 1) : 'sync';
      lines.push({
        workflowId,
        activityId: activity.activityId ?? '',
        attempt,
        text: `${stream}: ${withoutPlan(message)}; ${wait}attempt ${attempt}${of}`,
      });
    }
  }
  return lines;
}

/** Polls every `everyMs` until stopped, reporting each retry once; `stop()` waits for the poll under way. */
export function watchRetries(
  client: Client,
  ids: string[],
  report: (line: string) => void,
  everyMs = 1000,
): { stop(): Promise<void> } {
  const seen = new Set<string>();
  let stopped = false;
  let wake: (() => void) | undefined;
  const poll = async () => {
    while (!stopped) {
      for (const line of await pendingRetries(client, ids, seen).catch(() => [])) {
        if (!stopped) report(line.text);
      }
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, everyMs).unref();
      });
    }
  };
  const done = poll();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await done;
    },
  };
}
