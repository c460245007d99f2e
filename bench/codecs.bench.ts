// What the Node version and the output codec change, on the NDJSON of one cached export hour (run
// bench/worker-sync.bench.ts once to render it): the bare loop's JSON.parse, our normalisation of the
// same lines (single-threaded, its ratio is input/output bytes), and the output
// compression a destination could use, gzip at the levels worth considering and zstd where this Node
// has it (22.15+), each single-threaded over the same bytes, with its throughput and ratio. Run it on
// each Node to compare:
//
//   node --import tsx bench/codecs.bench.ts [--shape realistic|large] [--mb 256]
//   BENCH_NODE=... (any Node binary) $BENCH_NODE --import tsx bench/codecs.bench.ts
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import zlib from 'node:zlib';
import { normaliseEvents } from '../src/amplitude/event-record.ts';
import { LineSplitter } from '../src/amplitude/export-decoder.ts';
import { cachedMembers } from './bare-loop.ts';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'realistic' },
    mb: { type: 'string', default: '256' },
    'cache-dir': { type: 'string', default: '.bench-cache' },
  },
});
const MB = 1e6;
const limit = Number(values.mb) * MB;
const dir = join(resolve(values['cache-dir']), `worker-sync-${values.shape}`);
const files = await cachedMembers(dir, 0, Number.MAX_SAFE_INTEGER);
if (files.length === 0) throw new Error(`no cached members in ${dir}: run bench/worker-sync.bench.ts first`);

// The NDJSON, in memory, in members' chunks as the export path sees them.
const chunks: Buffer[] = [];
let size = 0;
for (const file of files) {
  if (size >= limit) break;
  const ndjson = zlib.gunzipSync(await readFile(file));
  chunks.push(ndjson);
  size += ndjson.length;
}

function timed(label: string, run: () => number): void {
  run(); // warm-up on the first chunk's worth is folded in: the figure is the second pass
  const started = performance.now();
  const out = run();
  const seconds = (performance.now() - started) / 1000;
  const ratio = out > 0 ? ` ratio ${(size / out).toFixed(2)}` : '';
  console.log(`  ${label.padEnd(22)} ${(size / MB / seconds).toFixed(0).padStart(5)} MB/s${ratio}`);
}

console.log(
  `Node ${process.version}: ${(size / MB).toFixed(0)} MB of ${values.shape} NDJSON (${chunks.length} members)`,
);
timed('JSON.parse every line', () => {
  for (const chunk of chunks) {
    const text = chunk.toString('utf8');
    let from = 0;
    for (let at = text.indexOf('\n'); at !== -1; at = text.indexOf('\n', from)) {
      JSON.parse(text.slice(from, at));
      from = at + 1;
    }
  }
  return 0;
});
timed('normaliseEvents', () => {
  let out = 0;
  for (const chunk of chunks) {
    for (const batch of new LineSplitter().push(chunk)) {
      for (const lines of normaliseEvents(batch).values()) out += lines.bytes.length;
    }
  }
  return out;
});
for (const level of [1, 3, 6]) {
  timed(`gzip level ${level}`, () =>
    chunks.reduce((total, chunk) => total + zlib.gzipSync(chunk, { level }).length, 0),
  );
}
// What the destination writes: level 1 with zlib's largest hash table (block-compressor.ts).
timed('gzip level 1 memLevel 9', () =>
  chunks.reduce((total, chunk) => total + zlib.gzipSync(chunk, { level: 1, memLevel: 9 }).length, 0),
);
const zstd = (zlib as unknown as { zstdCompressSync?: (b: Buffer, o?: object) => Buffer }).zstdCompressSync;
if (zstd) {
  const LEVEL = (zlib.constants as unknown as Record<string, number>).ZSTD_c_compressionLevel!;
  for (const level of [1, 3]) {
    timed(`zstd level ${level}`, () =>
      chunks.reduce((total, chunk) => total + zstd(chunk, { params: { [LEVEL]: level } }).length, 0),
    );
  }
} else {
  console.log('  zstd                   not in this Node');
}
