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
/** .ts when running the sources (tsx), .js when running the compiled dist/. */
const EXTENSION = import.meta.url.endsWith('.js') ? '.js' : '.ts';
export const WORKFLOWS_PATH = join(SOURCES, 'workflows', `index${EXTENSION}`);

/** Where bundles are kept: AMPLITUDE_SYNC_BUNDLE_CACHE, else node_modules/.cache of this package. */
function cacheDirectory(): string {
  return process.env.AMPLITUDE_SYNC_BUNDLE_CACHE ?? join(ROOT, 'node_modules', '.cache', 'amplitude-sync');
}

/** A digest of every source file (the workflows import across src/) and of the SDK's version. */
async function sourceDigest(): Promise<string> {
  const hash = createHash('sha256');
  const files = (await readdir(SOURCES, { recursive: true, withFileTypes: true }))
    .filter((entry) => entry.isFile() && entry.name.endsWith(EXTENSION))
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

const SOURCE_MAP_COMMENT = '//# sourceMappingURL=data:application/json;charset=utf-8;base64,';

/**
 * The bundle without the sources' text in its inline source map. Workers parse the bundle in the main
 * thread and again in the workflow thread, source map included; the mappings alone still point a
 * workflow's stack trace at our file and line, at about half the bundle's size and memory.
 */
function withoutSourcesContent(bundle: WorkflowBundle): WorkflowBundle {
  const at = bundle.code.lastIndexOf(SOURCE_MAP_COMMENT);
  if (at < 0) return bundle;
  const map = JSON.parse(Buffer.from(bundle.code.slice(at + SOURCE_MAP_COMMENT.length), 'base64').toString());
  delete map.sourcesContent;
  return {
    code: `${bundle.code.slice(0, at)}${SOURCE_MAP_COMMENT}${Buffer.from(JSON.stringify(map)).toString('base64')}\n`,
  };
}

async function cachedOrBuilt(): Promise<WorkflowBundle> {
  const file = join(cacheDirectory(), `workflows-${await sourceDigest()}.js`);
  try {
    return { code: await readFile(file, 'utf8') };
  } catch {
    // Not built yet for these sources.
  }
  const built = withoutSourcesContent(
    await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: quietBundlerLogger }),
  );
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

// `node dist/workflow-bundle.js` (in `npm run build`): bundle now, so that no start has to.
if (process.argv[1] === fileURLToPath(import.meta.url)) await workflowBundle();
