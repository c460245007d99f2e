// The workflow bundle, built once and kept: bundling (webpack) takes seconds and a few hundred MB, so a
// worker or a one-shot command that finds the bundle of the same sources reuses it and starts fast and
// small. The cache key is a digest of the sources and of the SDK's version, so an edit or an upgrade
// builds again.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, type WorkflowBundle } from '@temporalio/worker';

const SOURCES = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const WORKFLOWS_PATH = join(SOURCES, 'workflows', 'index.ts');

/** Where bundles are kept: AMPLITUDE_SYNC_BUNDLE_CACHE, else node_modules/.cache of this package. */
function cacheDirectory(): string {
  return process.env.AMPLITUDE_SYNC_BUNDLE_CACHE ?? join(ROOT, 'node_modules', '.cache', 'amplitude-sync');
}

/** A digest of every source file (the workflows import across src/) and of the SDK's version. */
async function sourceDigest(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(SOURCES, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
  for (const file of files)
    hash
      .update(relative(SOURCES, file))
      .update('\0')
      .update(await readFile(file));
  const sdk = JSON.parse(
    await readFile(join(ROOT, 'node_modules', '@temporalio', 'workflow', 'package.json'), 'utf8'),
  ) as { version: string };
  return hash.update(sdk.version).digest('hex').slice(0, 16);
}

const quietBundlerLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn(message: string) {
    console.warn(message);
  },
  error(message: string) {
    console.error(message);
  },
};

async function cachedOrBuilt(): Promise<WorkflowBundle> {
  const file = join(cacheDirectory(), `workflows-${await sourceDigest()}.js`);
  try {
    return { code: await readFile(file, 'utf8') };
  } catch {
    // Not built yet for these sources.
  }
  const built = await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger });
  try {
    await mkdir(cacheDirectory(), { recursive: true });
    const partial = `${file}.${process.pid}.tmp`;
    await writeFile(partial, built.code);
    await rename(partial, file);
  } catch {
    // A read-only install: the next start bundles again.
  }
  return built;
}

let bundle: Promise<WorkflowBundle> | undefined;

/** The workflow bundle, once per process; from the cache when these sources were bundled before. */
export function workflowBundle(): Promise<WorkflowBundle> {
  bundle ??= cachedOrBuilt();
  return bundle;
}
