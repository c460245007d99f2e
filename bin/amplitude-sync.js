#!/usr/bin/env -S node --max-semi-space-size=1
// Runs the TypeScript sources directly (tsx), so there is no build step.
// --max-semi-space-size=1: the main thread mostly moves buffers (HTTP bodies, compressed output); a
// small young generation frees them within milliseconds instead of at the next full collection,
// which keeps a worker's memory flat (about 40 MB less at peak in bench/export.bench.ts). Wherever
// this file is started with `node` directly, pass the same flag (Dockerfile, package.json).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
