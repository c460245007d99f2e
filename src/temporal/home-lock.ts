// One command at a time per $AMPLITUDE_SYNC_HOME: the embedded server's database is a file that two
// servers must not open together. The lock file names the process that holds it.
import { readFileSync, rmSync } from 'node:fs';
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';

export class HomeLockedError extends Error {
  override name = 'HomeLockedError';
}

interface Holder {
  pid: number;
  command: string;
  since: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed process nobody has reaped yet (a container's init may never) is a zombie: gone all the same.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

async function readHolder(path: string): Promise<Holder | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}

/**
 * Takes `<home>/lock` for this process, or fails naming the live process that holds it. A lock left by
 * a process that is gone is taken over. Released by the returned function, and at exit.
 */
export async function lockHome(home: string, command: string): Promise<() => Promise<void>> {
  const path = join(home, 'lock');
  const mine: Holder = { pid: process.pid, command, since: new Date().toISOString() };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(JSON.stringify(mine));
      await handle.close();
      const releaseAtExit = () => {
        if (holderOf(path)?.pid === process.pid) rmSync(path, { force: true });
      };
      process.once('exit', releaseAtExit);
      return async () => {
        process.off('exit', releaseAtExit);
        if ((await readHolder(path))?.pid === process.pid) await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readHolder(path);
    if (holder && alive(holder.pid) && holder.pid !== process.pid) {
      throw new HomeLockedError(
        `another amplitude-sync command is using ${home} (process ${holder.pid}, \`${holder.command}\`, since ${holder.since}). ` +
          'Wait for it to finish, or give this command its own AMPLITUDE_SYNC_HOME (its syncs keep their state there).',
      );
    }
    if (!holder) {
      // Being written by a process that is starting: read it again in a moment.
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    // Left by a process that is gone: take it over.
    await rm(path, { force: true });
  }
  throw new HomeLockedError(
    `could not lock ${home}: ${path} keeps coming back; remove it if no amplitude-sync runs`,
  );
}

function holderOf(path: string): Holder | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Holder;
  } catch {
    return undefined;
  }
}
