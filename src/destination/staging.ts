// Where remote destinations (s3, postgres) stage an hour before publishing it: a directory of this
// worker process on its own disk. Hours are staged as gzip, so an export of any size needs disk for
// the hours under way only, and memory stays flat.
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(tmpdir(), 'amplitude-sync-staging');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** This process's staging directory (created when first used). */
export function stagingDirectory(): string {
  return join(ROOT, String(process.pid));
}

/** Removes the staging directories of worker processes that are gone (they died mid-hour). */
export async function removeStaleStaging(): Promise<void> {
  for (const name of await readdir(ROOT).catch(() => [] as string[])) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) {
      await rm(join(ROOT, name), { recursive: true, force: true });
    }
  }
}

/** A partition's staging file name: flat, and unique to the writer (`tag`) and part. */
export function stagedName(partition: string, tag: string, part: string): string {
  return `${partition.replace(/[^\w.-]+/g, '_')}.${tag}.${part}`;
}
