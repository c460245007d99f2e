// The bare decode loop the benchmarks compare against: gunzip + line split + JSON.parse over cached
// export members (the gzip files the simulator serves inside its zip), no output. The same loop as
// bench/export.bench.ts's baseline, shared so that it can run in a process of its own, on any Node
// binary:
//
//   node --import tsx bench/bare-loop.ts <member.json.gz>...   (prints one JSON line of figures)
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createGunzip } from 'node:zlib';
import { type LineBatch, LineSplitter } from '../src/amplitude/export-decoder.ts';

export interface BareLoopFigures {
  events: number;
  /** NDJSON bytes after gunzip */
  bytes: number;
  seconds: number;
  cpuSeconds: number;
}

function parseAll(batches: LineBatch[]): number {
  let lines = 0;
  for (const { buffer, bounds } of batches) {
    for (let i = 0; i < bounds.length; i += 2) JSON.parse(buffer.toString('utf8', bounds[i], bounds[i + 1]));
    lines += bounds.length / 2;
  }
  return lines;
}

export async function bareLoop(files: string[]): Promise<BareLoopFigures> {
  let events = 0;
  let bytes = 0;
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  for (const file of files) {
    const splitter = new LineSplitter();
    for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }).pipe(
      createGunzip({ chunkSize: 256 * 1024 }),
    )) {
      bytes += (chunk as Buffer).length;
      events += parseAll(splitter.push(chunk as Buffer));
    }
    events += parseAll(splitter.end());
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  return { events, bytes, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** The cached member files (`<isoHour>_<count>#<n>.json.gz`) under `dir` of upload hours in [start, end). */
export async function cachedMembers(dir: string, start: number, end: number): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json.gz')) continue;
    const hour = Date.parse(`${entry.name.slice(0, 13)}:00:00Z`);
    if (hour >= start && hour < end) files.push(join(entry.parentPath, entry.name));
  }
  return files.sort();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify(await bareLoop(process.argv.slice(2))));
}
