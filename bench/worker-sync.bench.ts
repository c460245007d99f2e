// Events throughput as users run it (issue 11): a Temporal dev server, a separate
// `amplitude-sync worker --config FILE` process, and `amplitude-sync sync --config FILE` (TEMPORAL_ADDRESS
// set, streams ["events"], local destination in a temporary directory) timed from spawn to exit, beside
// the bare gunzip + split + JSON.parse loop over the same export bytes in the same run.
//
//   node --import tsx bench/worker-sync.bench.ts [--shape realistic|large] [--scale 1|4] [--runs N]
//     [--cache-dir .bench-cache] [--worker-args="--cpu-prof --cpu-prof-dir=/tmp/prof"] [--command read]
//     [--compression gzip|zstd] [--worker-log FILE] [--timeline] [--sync-args="--cpu-prof ..."]
//
// --warm-up: before the timed sync, one untimed sync of the same data into another destination, on the
// same worker: a long-running worker (one serving a schedule) has run syncs before, and its threads'
// code and data structures are warm (a fresh worker's first workflow task alone takes ~0.15 s).
// "host steal" is the share of the machine's cores its hypervisor took during the sync (/proc/stat): a
// run with much of it is slower for a reason outside the product.
// With several runs or scales it ends with a summary per shape and scale: the median ratio and its range,
// and the highest peak RSS (the figures the README quotes).
// --compression zstd: the destination's partitions in zstd instead of gzip (Node 22.15+).
// --sync-args: Node flags for the `sync` command's process (e.g. a CPU profile of its start).
// --worker-log FILE: the worker's stdout and stderr, written there when it stops (with
// --worker-args="--trace-gc", its collections).
// --timeline: after each sync, the events of its workflows (the sync and its children), in ms from the
// command's spawn: where the time before the first request to Amplitude and after the last goes.
// --command read: Airbyte's `read --config --catalog` (events, incremental) in place of worker + sync;
// the read process holds its own worker, so its CPU and RSS are the worker's columns, and its stdout
// (every RECORD) is drained and counted.
//
// Shapes: `realistic` is the simulator's 55-key events (~1.8 KB), 600,000 in the export hour; `large`
// is the same events with a ~2.3 KB random base64 event property (~4 KB, poorly compressible), 262,144
// in the hour. 1x is one upload hour of ~1.07 GB of NDJSON, 4x is four such hours (one export request).
// Export members are rendered once into the simulator's export cache (`--cache-dir`) and served from
// there. BENCH_NODE (or --node) names the Node binary of the worker, the sync command and the bare loop
// (default: this process's); the simulator and the harness run in this process.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline, Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createGzip } from 'node:zlib';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DAY_MS, floorToDay, HOUR_MS, isoHour } from '../src/amplitude/time.ts';
import { EventLineGenerator } from '../src/simulator/event-lines.ts';
import { EventVolume } from '../src/simulator/event-volume.ts';
import { ExportCache } from '../src/simulator/export-cache.ts';
import {
  type ExportMember,
  GZIP_LEVEL,
  gzipMemberBytes,
  planExport,
} from '../src/simulator/export-members.ts';
import { DEFAULT_CREDENTIALS, type Simulator, startSimulator } from '../src/simulator/index.ts';
import { hashString } from '../src/simulator/random.ts';
import { startDevServer } from '../test/helpers/temporal.ts';
import { type BareLoopFigures, cachedMembers } from './bare-loop.ts';

const MB = 1e6;
const PROJECT_ID = 187520;
const EVENTS_PER_PARTITION = 5000;
const PADDING_CHARS = 2300;

type Shape = 'realistic' | 'large';
const SHAPES: Record<Shape, { seed: string; eventsPerHour: number; padded: boolean }> = {
  realistic: { seed: 'amplitude-sync', eventsPerHour: 600_000, padded: false },
  large: { seed: 'bench-large', eventsPerHour: 262_144, padded: true },
};

const { values } = parseArgs({
  options: {
    shape: { type: 'string' },
    scale: { type: 'string' },
    runs: { type: 'string', default: '1' },
    'cache-dir': { type: 'string', default: '.bench-cache' },
    node: { type: 'string' },
    'worker-args': { type: 'string', default: '' },
    'sync-args': { type: 'string', default: '' },
    command: { type: 'string', default: 'sync' },
    compression: { type: 'string', default: 'gzip' },
    'worker-log': { type: 'string' },
    timeline: { type: 'boolean', default: false },
    'warm-up': { type: 'boolean', default: false },
  },
});
if (values.command !== 'sync' && values.command !== 'read') throw new Error('--command sync|read');
const readMode = values.command === 'read';
const shapes: Shape[] = values.shape ? [values.shape as Shape] : ['realistic', 'large'];
for (const shape of shapes) if (!(shape in SHAPES)) throw new Error(`--shape realistic|large, got ${shape}`);
const scales = values.scale ? [Number(values.scale)] : [1, 4];
const runs = Math.max(1, Number(values.runs));
const cacheRoot = resolve(values['cache-dir']);
const nodeBinary = values.node ?? process.env.BENCH_NODE ?? process.execPath;
const workerArgs = values['worker-args'].split(' ').filter(Boolean);
const syncArgs = values['sync-args'].split(' ').filter(Boolean);
const BIN = resolve('bin/amplitude-sync.js');
// The first upload hour of the data: yesterday 00:00 UTC, so that the cache stays valid all day and the
// sync's first window (24 hours from start_date) holds every hour with data.
const FIRST_HOUR = floorToDay(Date.now()) - DAY_MS;
const CLOCK_TICKS = 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s on Linux

// Everything started here, stopped however the benchmark ends.
const children = new Set<ChildProcess>();
const temporaries = new Set<string>();

async function stop(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

let devServer: TestWorkflowEnvironment | undefined;
let simulator: Simulator | undefined;

async function cleanUp(): Promise<void> {
  await simulator?.close();
  simulator = undefined;
  await Promise.all([...children].map((child) => stop(child)));
  await Promise.all([...temporaries].map((path) => rm(path, { recursive: true, force: true })));
  await devServer?.teardown();
  devServer = undefined;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}
// Output piped into a reader that leaves early (`| head`): the dev server would otherwise outlive us.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  void cleanUp().finally(() => process.exit(0));
});

function launch(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

function collect(child: ChildProcess): { stdout: string; stderr: string } {
  const output = { stdout: '', stderr: '' };
  child.stdout!.on('data', (chunk) => {
    output.stdout += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output.stderr += chunk;
  });
  return output;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => child.once('exit', (code) => done(code)));
}

// --- export data --------------------------------------------------------------------------------

function hourCount(shape: Shape, hours: number) {
  return (hourStartMs: number) =>
    hourStartMs >= FIRST_HOUR && hourStartMs < FIRST_HOUR + hours * HOUR_MS ? SHAPES[shape].eventsPerHour : 0;
}

function cacheDirOf(shape: Shape): string {
  return join(cacheRoot, `worker-sync-${shape}`);
}

let paddingPool: string | undefined;

/** The simulator's lines with a random base64 property of PADDING_CHARS in event_properties. */
function* paddedChunks(generator: EventLineGenerator, member: ExportMember): Generator<Buffer> {
  paddingPool ??= randomBytes(48 * 1024 * 1024).toString('base64');
  const pool = paddingPool;
  const { hourStartMs, hourCount, partition } = member;
  for (const chunk of generator.ndjsonChunks(hourStartMs, hourCount, partition.from, partition.to)) {
    const lines = chunk.toString('utf8').split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const at = line.indexOf('"event_properties":{');
      if (at < 0) continue;
      const from = at + '"event_properties":{'.length;
      const offset = Math.floor(Math.random() * (pool.length - PADDING_CHARS));
      const padding = `"payload":"${pool.slice(offset, offset + PADDING_CHARS)}"${line[from] === '}' ? '' : ','}`;
      lines[i] = line.slice(0, from) + padding + line.slice(from);
    }
    yield Buffer.from(lines.join('\n'), 'utf8');
  }
}

/** Renders the shape's members of `hours` upload hours into the simulator's export cache (once). */
async function renderCache(shape: Shape, hours: number): Promise<void> {
  const { seed, padded } = SHAPES[shape];
  const cache = new ExportCache(cacheDirOf(shape), {
    seed,
    projectId: PROJECT_ID,
    eventsPerPartition: EVENTS_PER_PARTITION,
    firstPartitionIndex: 0,
    gzipLevel: GZIP_LEVEL,
  });
  const volume = new EventVolume({
    dataStart: FIRST_HOUR,
    eventsPerHour: hourCount(shape, hours),
    eventsPerPartition: EVENTS_PER_PARTITION,
    firstPartitionIndex: 0,
    availabilityDelayMs: 2 * HOUR_MS,
  });
  const generator = new EventLineGenerator(hashString(seed), PROJECT_ID);
  const members = planExport(volume, PROJECT_ID, FIRST_HOUR, FIRST_HOUR + (hours - 1) * HOUR_MS, Date.now());
  const started = performance.now();
  const render = (member: ExportMember) => (): AsyncIterable<Uint8Array> => {
    if (!padded) return gzipMemberBytes(generator, member);
    const gzip = createGzip({ level: GZIP_LEVEL, chunkSize: 256 * 1024 });
    return pipeline(Readable.from(paddedChunks(generator, member)), gzip, () => {});
  };
  // Two at a time: one member's lines are generated while the other's gzip runs on the thread pool.
  for (let i = 0; i < members.length; i += 2) {
    await Promise.all(
      members.slice(i, i + 2).map(async (member) => {
        const bytes = cache.bytes(member, render(member));
        await bytes.next(); // rendered (or found) before the first chunk
        await bytes.return(undefined);
      }),
    );
  }
  const seconds = (performance.now() - started) / 1000;
  if (seconds > 1) console.log(`  rendered ${members.length} ${shape} members in ${seconds.toFixed(0)} s`);
}

// --- processes -----------------------------------------------------------------------------------

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** The machine's CPU time taken by the hypervisor (steal) since boot, in ticks over all cores. */
function stealTicks(): number {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/);
  return Number(fields[8] ?? 0); // cpu user nice system idle iowait irq softirq steal
}

/** The share of the machine's cores the hypervisor took since `before` (stealTicks), over `seconds`. */
function stealSince(before: number, seconds: number): number {
  return (stealTicks() - before) / CLOCK_TICKS / seconds / availableParallelism();
}

/**
 * Waits until a just-started worker is idle (its threads load their modules and its workflow context
 * for a few hundred ms after it listens), as the long-running worker a user's sync goes to is.
 */
async function settled(pid: number): Promise<void> {
  const deadline = performance.now() + 10_000;
  for (let ticks = cpuTicks(pid); performance.now() < deadline; ) {
    await new Promise((done) => setTimeout(done, 250));
    const now = cpuTicks(pid);
    if (now - ticks <= 1) return;
    ticks = now;
  }
}

function statusKb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) : 0;
}

// --- one measurement -----------------------------------------------------------------------------

interface Row {
  shape: Shape;
  scale: number;
  run: number;
  events: number;
  ndjsonBytes: number;
  bare: BareLoopFigures;
  syncSeconds: number;
  syncRecords: number | undefined;
  workerCores: number;
  workerRssBefore: number;
  workerPeakRss: number;
  workerHwm: number;
  harnessCores: number;
  /** Share of the machine's cores its hypervisor took during the sync: a run with much is a noisy one. */
  steal: number;
}

async function runBareLoop(files: string[]): Promise<BareLoopFigures> {
  const child = launch(nodeBinary, ['--import', 'tsx', 'bench/bare-loop.ts', ...files]);
  const output = collect(child);
  const code = await exited(child);
  if (code !== 0) throw new Error(`the bare loop failed (${code}): ${output.stderr}`);
  return JSON.parse(output.stdout.trim().split('\n').pop()!) as BareLoopFigures;
}

async function measure(address: string, simulator: Simulator, shape: Shape, scale: number, run: number) {
  const dir = await mkdtemp(join(tmpdir(), 'bench-worker-sync-'));
  temporaries.add(dir);
  try {
    const files = await cachedMembers(cacheDirOf(shape), FIRST_HOUR, FIRST_HOUR + scale * HOUR_MS);
    const bare = await runBareLoop(files);

    const writeConfig = async (name: string, out: string) => {
      const path = join(dir, name);
      await writeFile(
        path,
        JSON.stringify({
          api_key: DEFAULT_CREDENTIALS.standard.apiKey,
          secret_key: DEFAULT_CREDENTIALS.standard.secretKey,
          start_date: new Date(FIRST_HOUR).toISOString().replace(/\.\d+Z$/, 'Z'),
          base_url: simulator.urls.standard,
          streams: ['events'],
          destination: { type: 'local', path: join(dir, out), compression: values.compression },
        }),
      );
      return path;
    };
    const config = await writeConfig('bench.json', 'out');
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: address,
      AMPLITUDE_SYNC_TASK_QUEUE: `bench-worker-sync-${shape}-${scale}-${run}-${Date.now()}`,
      AMPLITUDE_SYNC_NO_PROGRESS: '1',
      // What bin/amplitude-sync.js's shebang sets; spawning node directly skips the shebang.
      MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2',
      MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ ?? '262144',
      // dist/, as users run it after `npm run setup`: never the sources because an edit was not built.
      AMPLITUDE_SYNC_COMPILED_ONLY: '1',
    };
    if (readMode) return await measureRead(dir, config, env, { shape, scale, run, bare });
    // With the flag bin/amplitude-sync.js runs with, as in the Dockerfile.
    const start = (command: 'worker' | 'sync', configPath: string, nodeArgs: string[] = []) =>
      launch(nodeBinary, ['--max-semi-space-size=1', ...nodeArgs, BIN, command, '--config', configPath], env);
    const worker = start('worker', config, workerArgs);
    const workerOutput = collect(worker);
    while (!workerOutput.stdout.includes('worker listening')) {
      if (worker.exitCode !== null) throw new Error(`the worker ended: ${workerOutput.stderr}`);
      await new Promise((done) => setTimeout(done, 50));
    }
    const pid = worker.pid!;
    await settled(pid);
    if (values['warm-up']) {
      const warming = start('sync', await writeConfig('warm-up.json', 'warm-up-out'));
      const warmingOutput = collect(warming);
      const warmed = await exited(warming);
      if (warmed !== 0) throw new Error(`the warm-up sync exited ${warmed}: ${warmingOutput.stderr}`);
      await rm(join(dir, 'warm-up-out'), { recursive: true, force: true });
      await settled(pid);
    }
    const workerRssBefore = statusKb(pid, 'VmRSS') * 1024;
    let workerPeakRss = workerRssBefore;
    const sampler = setInterval(() => {
      workerPeakRss = Math.max(workerPeakRss, statusKb(pid, 'VmRSS') * 1024);
    }, 50);
    const ticksBefore = cpuTicks(pid);
    const harnessCpu = process.cpuUsage();
    const stealBefore = stealTicks();
    const started = performance.now();
    const spawnedAt = Date.now();
    const sync = start('sync', config, syncArgs);
    const syncOutput = collect(sync);
    // A workflow task that fails in a loop (the worker logs why) would keep the sync waiting forever.
    let timedOut = false;
    const watchdog = setTimeout(() => {
      timedOut = true;
      sync.kill('SIGKILL');
    }, 15 * 60_000);
    const code = await exited(sync);
    clearTimeout(watchdog);
    const syncSeconds = (performance.now() - started) / 1000;
    const steal = stealSince(stealBefore, syncSeconds);
    clearInterval(sampler);
    const ticks = cpuTicks(pid) - ticksBefore;
    const harness = process.cpuUsage(harnessCpu);
    workerPeakRss = Math.max(workerPeakRss, statusKb(pid, 'VmRSS') * 1024);
    const workerHwm = statusKb(pid, 'VmHWM') * 1024;
    await stop(worker, 60_000); // a profiled worker writes its profile on the way out
    if (values['worker-log']) {
      await writeFile(values['worker-log'], workerOutput.stdout + workerOutput.stderr);
    }
    if (code !== 0) {
      throw new Error(
        `sync ${timedOut ? 'still running after 15 minutes, killed' : `exited ${code}`}:\n${syncOutput.stdout}\n${syncOutput.stderr}\nworker:\n${workerOutput.stderr.slice(-4000)}`,
      );
    }
    if (values.timeline) await printTimeline(address, env.AMPLITUDE_SYNC_TASK_QUEUE!, spawnedAt);
    const records = /events\s+\S+\s+(\d+) records/.exec(syncOutput.stdout);
    const row: Row = {
      shape,
      scale,
      run,
      events: bare.events,
      ndjsonBytes: bare.bytes,
      bare,
      syncSeconds,
      syncRecords: records ? Number(records[1]) : undefined,
      workerCores: ticks / CLOCK_TICKS / syncSeconds,
      workerRssBefore,
      workerPeakRss,
      workerHwm,
      harnessCores: (harness.user + harness.system) / 1e6 / syncSeconds,
      steal,
    };
    if (row.syncRecords !== bare.events) {
      console.log(
        `  NOTE: the sync reported ${row.syncRecords ?? '?'} events, the bare loop read ${bare.events}:\n${syncOutput.stdout}`,
      );
    }
    return row;
  } finally {
    await rm(dir, { recursive: true, force: true });
    temporaries.delete(dir);
  }
}

/** The events of every workflow on the task queue, oldest workflow first, in ms from `since`. */
async function printTimeline(address: string, taskQueue: string, since: number): Promise<void> {
  const { Client, Connection } = await import('@temporalio/client');
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    const executions = [];
    for await (const execution of client.workflow.list({ query: `TaskQueue = "${taskQueue}"` })) {
      executions.push(execution);
    }
    executions.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    for (const { workflowId, runId, type } of executions) {
      const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
      const activities = new Map<string, string>();
      const lines = (history.events ?? []).map((event) => {
        const at =
          Number(event.eventTime!.seconds) * 1000 + Math.round(event.eventTime!.nanos! / 1e6) - since;
        const scheduled = event.activityTaskScheduledEventAttributes;
        if (scheduled) activities.set(String(event.eventId), scheduled.activityType!.name!);
        const of =
          event.activityTaskStartedEventAttributes?.scheduledEventId ??
          event.activityTaskCompletedEventAttributes?.scheduledEventId;
        const name = scheduled?.activityType?.name ?? (of ? activities.get(String(of)) : undefined);
        const kind = Object.keys(event)
          .find((key) => key.endsWith('EventAttributes'))
          ?.replace('EventAttributes', '');
        return `    ${String(at).padStart(6)} ms  ${kind}${name ? ` ${name}` : ''}`;
      });
      console.log(`  ${type} ${workflowId}\n${lines.join('\n')}`);
    }
  } finally {
    await connection.close();
  }
}

/** `read` as Airbyte runs it: its stdout drained and its RECORD lines counted, never held. */
async function measureRead(
  dir: string,
  config: string,
  env: NodeJS.ProcessEnv,
  row: Pick<Row, 'shape' | 'scale' | 'run' | 'bare'>,
): Promise<Row> {
  const catalog = join(dir, 'catalog.json');
  await writeFile(
    catalog,
    JSON.stringify({ streams: [{ stream: { name: 'events' }, sync_mode: 'incremental' }] }),
  );
  const harnessCpu = process.cpuUsage();
  const stealBefore = stealTicks();
  const started = performance.now();
  const read = launch(
    nodeBinary,
    ['--max-semi-space-size=1', ...workerArgs, BIN, 'read', '--config', config, '--catalog', catalog],
    env,
  );
  // Counted natively (Buffer.indexOf), carrying a pattern's length over chunk edges: the harness
  // shares the machine's two cores with the read.
  const RECORD = Buffer.from('{"type":"RECORD"');
  let records = 0;
  let carry = Buffer.alloc(0);
  read.stdout!.on('data', (chunk: Buffer) => {
    const bytes = carry.length > 0 ? Buffer.concat([carry, chunk]) : chunk;
    for (let at = bytes.indexOf(RECORD); at !== -1; at = bytes.indexOf(RECORD, at + RECORD.length)) records++;
    carry = Buffer.from(bytes.subarray(Math.max(0, bytes.length - RECORD.length + 1)));
  });
  let stderr = '';
  read.stderr!.on('data', (chunk) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const pid = read.pid!;
  let peak = 0;
  let ticks = 0;
  const sampler = setInterval(() => {
    try {
      peak = Math.max(peak, statusKb(pid, 'VmRSS') * 1024);
      ticks = cpuTicks(pid);
    } catch {
      // ended between two samples
    }
  }, 50);
  const code = await exited(read);
  const seconds = (performance.now() - started) / 1000;
  const steal = stealSince(stealBefore, seconds);
  clearInterval(sampler);
  const harness = process.cpuUsage(harnessCpu);
  if (code !== 0) throw new Error(`read exited ${code}: ${stderr}`);
  if (records !== row.bare.events)
    console.log(`  NOTE: read emitted ${records} records, the bare loop read ${row.bare.events}`);
  return {
    ...row,
    events: row.bare.events,
    ndjsonBytes: row.bare.bytes,
    syncSeconds: seconds,
    syncRecords: records,
    workerCores: ticks / CLOCK_TICKS / seconds,
    workerRssBefore: 0,
    workerPeakRss: peak,
    workerHwm: peak,
    harnessCores: (harness.user + harness.system) / 1e6 / seconds,
    steal,
  };
}

// --- report --------------------------------------------------------------------------------------

const HEADER =
  '| shape | scale | run | events | NDJSON MB | bare s | bare MB/s | sync s | sync MB/s | sync/bare | worker cores | worker RSS before / peak MB | worker VmHWM MB | simulator cores | host steal | Node |';

/** MB/s of NDJSON over `seconds`, and the sync's speed against the bare loop's (same bytes). */
const rate = (row: Row, seconds: number) => row.ndjsonBytes / MB / seconds;
const ratio = (row: Row) => row.bare.seconds / row.syncSeconds;

function format(row: Row, node: string): string {
  return `| ${row.shape} | ${row.scale}x | ${row.run} | ${row.events} | ${(row.ndjsonBytes / MB).toFixed(0)} | ${row.bare.seconds.toFixed(1)} | ${rate(row, row.bare.seconds).toFixed(1)} | ${row.syncSeconds.toFixed(1)} | ${rate(row, row.syncSeconds).toFixed(1)} | ${ratio(row).toFixed(2)} | ${row.workerCores.toFixed(2)} | ${(row.workerRssBefore / MB).toFixed(0)} / ${(row.workerPeakRss / MB).toFixed(0)} | ${(row.workerHwm / MB).toFixed(0)} | ${row.harnessCores.toFixed(2)} | ${row.steal.toFixed(2)} | ${node} |`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Per shape and scale over its runs: the median ratio and its range (this machine's speed drifts by
 * 10-20% between runs, so one run says little), and the highest peak RSS; per shape, how the peak moves
 * from the smallest scale to the largest.
 */
function summary(all: Row[]): string {
  const lines = [
    '| shape | scale | runs | sync/bare median (range) | sync MB/s median | bare MB/s median | worker peak RSS max MB | peak vs smallest scale |',
    '|---|---|---|---|---|---|---|---|',
  ];
  const peakOf = (rows: Row[]) => Math.max(...rows.map((row) => row.workerPeakRss));
  for (const shape of shapes) {
    const ofShape = all.filter((row) => row.shape === shape);
    if (ofShape.length === 0) continue;
    const smallestScale = Math.min(...ofShape.map((row) => row.scale));
    const smallest = ofShape.filter((row) => row.scale === smallestScale);
    for (const scale of scales) {
      const group = ofShape.filter((row) => row.scale === scale);
      if (group.length === 0) continue;
      const ratios = group.map(ratio);
      const change = (peakOf(group) / peakOf(smallest) - 1) * 100;
      lines.push(
        `| ${shape} | ${scale}x | ${group.length} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}) | ${median(group.map((row) => rate(row, row.syncSeconds))).toFixed(1)} | ${median(group.map((row) => rate(row, row.bare.seconds))).toFixed(1)} | ${(peakOf(group) / MB).toFixed(0)} | ${change >= 0 ? '+' : ''}${change.toFixed(0)}% |`,
      );
    }
  }
  return lines.join('\n');
}

async function nodeVersion(): Promise<string> {
  const child = launch(nodeBinary, ['--version']);
  const output = collect(child);
  await exited(child);
  return output.stdout.trim();
}

const measured: Row[] = [];
try {
  const node = await nodeVersion();
  console.log(
    `worker + sync + bare loop on Node ${node} (${nodeBinary}); harness and simulator on ${process.version}; data from ${isoHour(FIRST_HOUR)}`,
  );
  devServer = await startDevServer();
  console.log(`Temporal dev server at ${devServer.address}`);
  for (const shape of shapes) {
    await renderCache(shape, Math.max(...scales));
    for (const scale of scales) {
      simulator = await startSimulator({
        seed: SHAPES[shape].seed,
        projectId: PROJECT_ID,
        dataStart: FIRST_HOUR,
        eventsPerHour: hourCount(shape, scale),
        eventsPerPartition: EVENTS_PER_PARTITION,
        exportCacheDir: cacheDirOf(shape),
      });
      for (let run = 1; run <= runs; run++) {
        const row = await measure(devServer.address, simulator, shape, scale, run);
        measured.push(row);
        console.log(`${HEADER}\n${format(row, node)}`);
      }
      await simulator.close();
      simulator = undefined;
    }
  }
  const rows = measured.map((row) => format(row, node));
  console.log(`\n${HEADER}\n${HEADER.replace(/[^|]/g, '-')}\n${rows.join('\n')}`);
  if (runs > 1 || scales.length > 1) console.log(`\n${summary(measured)}`);
} finally {
  await cleanUp();
}
