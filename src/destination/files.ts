// Files that appear whole or not at all: written under a temporary dot-name beside their final place,
// flushed to disk, then renamed into place.
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';

/** A temporary name in the same directory (so the rename is atomic); dot-files are ignored by readers. */
export function temporaryPath(finalPath: string, tag: string = randomUUID().slice(0, 8)): string {
  return join(dirname(finalPath), `.${basename(finalPath)}.${tag}.tmp`);
}

async function fsync(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Flushes `temporary` to disk and renames it over `finalPath`, then flushes the directory entry. */
export async function publish(temporary: string, finalPath: string): Promise<void> {
  await fsync(temporary);
  await rename(temporary, finalPath);
  await fsync(dirname(finalPath));
}

export async function ensureDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

/** Writes the concatenation of `parts` to `target` (gzip members concatenated form one valid gzip file). */
export async function concatenate(parts: string[], target: string): Promise<void> {
  const out = createWriteStream(target);
  for (const [index, part] of parts.entries()) {
    await pipeline(createReadStream(part), out, { end: index === parts.length - 1 });
  }
  if (parts.length === 0) out.end();
}

export async function removeQuietly(paths: Iterable<string>): Promise<void> {
  await Promise.all([...paths].map((path) => rm(path, { force: true })));
}
