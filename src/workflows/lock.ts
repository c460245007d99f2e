// One sync of a connection at a time, across the whole fleet: a sync started by connection name first
// starts this child with the connection's ID. Temporal runs one workflow of an ID at a time, so a second
// sync of the connection cannot start it and fails, naming the running one; the child ends with its
// sync (a child is terminated when its parent closes). With one sync per connection, the sync alone
// schedules the connection's Dashboard requests and can hold them under Amplitude's limit.
import { condition } from '@temporalio/workflow';

export const LOCK_PREFIX = 'amplitude-sync-lock/';

/** Held by the sync `holder` (its workflow ID, for the UI) until that sync closes. */
export async function connectionLock(_holder: string): Promise<void> {
  await condition(() => false);
}
