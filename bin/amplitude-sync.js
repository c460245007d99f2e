#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=262144 node --max-semi-space-size=1
// Runs the compiled JavaScript in dist/ (`npm run build`, done by `npm run setup` and the Docker image)
// when it is at least as new as every source file, else the TypeScript sources through tsx, so an
// edit never runs stale code; it says so on stderr, since the sources start slower and take more
// memory. AMPLITUDE_SYNC_FROM_SOURCES=1 runs the sources in any case (and quietly);
// AMPLITUDE_SYNC_COMPILED_ONLY=1 refuses to fall back (benchmarks: never measure the sources unawares).
// --max-semi-space-size=1: the main thread mostly moves buffers (HTTP bodies, compressed output); a
// small young generation frees them within milliseconds instead of at the next full collection,
// which keeps a worker's memory flat (about 40 MB less at peak in bench/export.bench.ts).
// MALLOC_ARENA_MAX=2: the Temporal core's threads otherwise each get a malloc arena of their own;
// two arenas take about 15 MB less at the same speed (bench/startup.ts).
// MALLOC_MMAP_THRESHOLD_=262144: allocations of 256 KiB and more (gunzip's and the compressors' output
// chunks, compression blocks, zstd's buffers) are mapped and unmapped on their own, so memory they
// leave goes back at once instead of staying in the heap between longer-lived allocations. Against
// unset: a worker's peak RSS 243-257 -> 240-243 MB at 1 MiB (bench/worker-sync.bench.ts); at 256 KiB
// 3-5 MB less again on a fresh worker and up to 9 MB less on one that has synced before (whose heap
// keeps 23 MB once idle, against 31 at 1 MiB), at the same speed; at 64 KiB (the HTTP body's chunks
// too) 15% slower. (Left unset, glibc raises its threshold as such blocks are freed.)
// Wherever this file is started with `node` directly, set the same (as the Dockerfile does).
import { readdirSync, statSync } from 'node:fs';
import { enableCompileCache } from 'node:module';
import { fileURLToPath } from 'node:url';

// V8's compiled code of the modules, kept on disk beside them for the next start: a command reaches
// its work about 60 ms sooner. Not in the temporary directory (Node's default), which a command
// leaves as it found it; where the directory cannot be written, Node carries on without a cache.
enableCompileCache(fileURLToPath(new URL('../node_modules/.cache/node-compile-cache/', import.meta.url)));

const root = new URL('../', import.meta.url);

function builtIsCurrent() {
  let built;
  try {
    built = statSync(new URL('dist/.built', root)).mtimeMs;
  } catch {
    return false;
  }
  const sources = fileURLToPath(new URL('src/', root));
  try {
    return readdirSync(sources, { recursive: true }).every(
      (file) => statSync(`${sources}${file}`).mtimeMs <= built,
    );
  } catch {
    return true; // an image or a package without the sources
  }
}

const fromSources = Boolean(process.env.AMPLITUDE_SYNC_FROM_SOURCES);
let cli;
if (!fromSources && builtIsCurrent()) {
  cli = await import('../dist/cli.js');
} else {
  if (!fromSources) {
    const stale = 'dist/ is missing or older than src/';
    if (process.env.AMPLITUDE_SYNC_COMPILED_ONLY) {
      console.error(`amplitude-sync: ${stale}; run \`npm run build\` (AMPLITUDE_SYNC_COMPILED_ONLY is set)`);
      process.exit(1);
    }
    console.error(
      `amplitude-sync: ${stale}, so the TypeScript sources run (\`npm run build\` compiles them)`,
    );
  }
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
