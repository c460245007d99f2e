// Sums the self time of each function in V8 .cpuprofile files (node --cpu-prof writes one per thread)
// and prints the top ones, per file and over all files, with a rough category for each.
//
//   node --import tsx bench/cpuprofile-top.ts [--top 25] <file.cpuprofile | dir>...
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' } },
  allowPositionals: true,
});
const top = Number(values.top);

async function profileFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      for (const name of await readdir(path)) if (name.endsWith('.cpuprofile')) files.push(join(path, name));
    } else files.push(path);
  }
  return files.sort();
}

function keyOf(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const where = url ? `${relative(process.cwd(), url.replace(/^file:\/\//, ''))}:${lineNumber + 1}` : '';
  return `${functionName || '(anonymous)'} ${where}`.trim();
}

function category(key: string): string {
  if (/JSON\.parse|^parse /.test(key)) return 'JSON.parse';
  if (/JSON\.stringify|stringify/.test(key)) return 'JSON.stringify';
  if (/event-record|timestamp/i.test(key)) return 'timestamp rewrite (event-record)';
  if (/zlib|deflate|inflate|gzip|gunzip|crc/i.test(key)) return 'zlib';
  if (/\(garbage collector\)/.test(key)) return 'GC';
  if (/\(idle\)|\(program\)/.test(key)) return key.split(' ')[0]!;
  if (/postMessage|MessagePort|worker_threads|structuredClone/i.test(key)) return 'thread messaging';
  if (/@temporalio|core-bridge/.test(key)) return 'Temporal SDK';
  if (/src\/amplitude|src\/activities|src\/destination/.test(key)) return 'amplitude-sync code';
  if (/node:|internal\//.test(key)) return 'Node internals';
  if (/toString|utf8|Buffer|slice|write/i.test(key)) return 'buffers/strings';
  return 'other';
}

const total = new Map<string, number>();
const categories = new Map<string, number>();
let totalMs = 0;
for (const file of await profileFiles(positionals)) {
  const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const node = byId.get(profile.samples[i]!)!;
    const key = keyOf(node);
    self.set(key, (self.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  }
  const fileMs = (profile.endTime - profile.startTime) / 1000;
  const busyMs = [...self].filter(([key]) => !key.startsWith('(idle)')).reduce((sum, [, ms]) => sum + ms, 0);
  console.log(
    `\n${file}: ${(fileMs / 1000).toFixed(1)} s profiled, ${(busyMs / 1000).toFixed(1)} s not idle`,
  );
  for (const [key, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(
      `  ${(ms / 1000).toFixed(2).padStart(7)} s  ${((ms / fileMs) * 100).toFixed(1).padStart(5)}%  ${key}`,
    );
  }
  for (const [key, ms] of self) {
    total.set(key, (total.get(key) ?? 0) + ms);
    const name = category(key);
    categories.set(name, (categories.get(name) ?? 0) + ms);
    if (!key.startsWith('(idle)')) totalMs += ms;
  }
}
console.log(`\nall threads, not idle: ${(totalMs / 1000).toFixed(1)} s; by category:`);
for (const [name, ms] of [...categories].sort((a, b) => b[1] - a[1])) {
  console.log(`  ${(ms / 1000).toFixed(2).padStart(7)} s  ${name}`);
}
console.log('top functions over all threads:');
for (const [key, ms] of [...total].sort((a, b) => b[1] - a[1]).slice(0, top)) {
  console.log(`  ${(ms / 1000).toFixed(2).padStart(7)} s  ${key}`);
}
