// The s3 and postgres destinations against the local one, on the same export (the simulator serving
// from its cache), each run of the export activity in a fresh process: throughput and peak RSS. For
// postgres also `psql \copy` of the same rows into the same table, side by side, and the RSS at 4x the
// data. S3Proxy and PostgreSQL run on loopback. Prints figures; asserts nothing.
//
//   node --import tsx bench/destinations.bench.ts [--gb 1] [--scale 4] [--cache-dir .bench-cache]
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import postgres from 'postgres';
import { DAY_MS, floorToDay, HOUR_MS, isoHour } from '../src/amplitude/time.ts';
import type { DestinationSpec } from '../src/destination/spec.ts';
import { startPostgres } from '../test/helpers/postgres-server.ts';
import { startS3Server } from '../test/helpers/s3-server.ts';
import { type ActivityFigures, MB, runActivity, startSimulatorProcess, warm } from './harness.ts';

const EVENTS_PER_HOUR = 200_000;
const APPROXIMATE_LINE_BYTES = 1780;
const { values } = parseArgs({
  options: {
    gb: { type: 'string', default: '1' },
    scale: { type: 'string', default: '4' },
    'cache-dir': { type: 'string', default: '.bench-cache' },
  },
});
const cacheDir = resolve(values['cache-dir']);
await mkdir(cacheDir, { recursive: true });

const [simulator, s3, pg] = await Promise.all([
  startSimulatorProcess(cacheDir, EVENTS_PER_HOUR),
  startS3Server(),
  startPostgres(),
]);
const env = {
  ...process.env,
  AWS_ACCESS_KEY_ID: s3.accessKeyId,
  AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
  AWS_REGION: s3.region,
  PGPASSWORD: pg.password,
};

function window(gigabytes: number) {
  const hours = Math.max(1, Math.round((gigabytes * 1e9) / (EVENTS_PER_HOUR * APPROXIMATE_LINE_BYTES)));
  const start = floorToDay(Date.now()) - 2 * DAY_MS;
  return { start, end: start + hours * HOUR_MS, hours };
}

function line(name: string, run: ActivityFigures, ndjsonBytes: number) {
  console.log(
    `  ${name.padEnd(9)} ${run.records} events in ${run.seconds.toFixed(1)} s = ${(ndjsonBytes / MB / run.seconds).toFixed(1)} MB/s of NDJSON, ${(run.cpuSeconds / run.seconds).toFixed(2)} cores, peak RSS ${(run.peakRss / MB).toFixed(0)} MB`,
  );
}

async function bucket(): Promise<DestinationSpec> {
  const name = `bench-${Date.now()}`;
  const client = new S3Client({
    region: s3.region,
    endpoint: s3.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: s3.accessKeyId, secretAccessKey: s3.secretAccessKey },
  });
  await client.send(new CreateBucketCommand({ Bucket: name }));
  client.destroy();
  return {
    type: 's3',
    bucket: name,
    prefix: 'amplitude/',
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
  };
}

async function database(): Promise<DestinationSpec> {
  const name = `bench_${Date.now()}`;
  const admin = postgres(pg.url, { onnotice: () => {} });
  await admin.unsafe(`create database ${name}`);
  await admin.end();
  return {
    type: 'postgres',
    url: `postgres://${pg.user}@${pg.host}:${pg.port}/${name}`,
    schema: 'amplitude',
  };
}

/** psql \copy of the rows the activity loaded (exported to a file first) into the same table, emptied. */
function psqlCopy(spec: DestinationSpec, file: string): number {
  if (spec.type !== 'postgres') throw new Error('postgres only');
  const psql = join(pg.binDir, 'psql');
  const run = (command: string) => {
    const result = spawnSync(psql, ['--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-d', spec.url!, '-c', command], {
      env,
      encoding: 'utf8',
    });
    if (result.status !== 0) throw new Error(`psql ${command}: ${result.stderr}`);
  };
  run(`\\copy amplitude.events to '${file}'`);
  run('truncate amplitude.events');
  const started = performance.now();
  run(`\\copy amplitude.events from '${file}'`);
  return (performance.now() - started) / 1000;
}

try {
  const gb = Number(values.gb);
  const scale = Number(values.scale);
  const small = window(gb);
  const warmed = await warm(simulator.url, small.start, small.end);
  const ndjson = small.hours * EVENTS_PER_HOUR * APPROXIMATE_LINE_BYTES;
  console.log(
    `${small.hours} upload hours (${isoHour(small.start)}..${isoHour(small.end - HOUR_MS)}), about ${(ndjson / MB).toFixed(0)} MB of NDJSON (zip of ${(warmed.bytes / MB).toFixed(0)} MB); Node ${process.version}`,
  );
  const local = await runActivity(simulator.url, small.start, small.end, undefined, env);
  line('local', local, ndjson);
  const inS3 = await runActivity(simulator.url, small.start, small.end, await bucket(), env);
  line('s3', inS3, ndjson);
  console.log(
    `  s3 / local: throughput ${(local.seconds / inS3.seconds).toFixed(2)}x, peak RSS ${(((inS3.peakRss - local.peakRss) / local.peakRss) * 100).toFixed(1)}%`,
  );

  const pgSpec = await database();
  const inPg = await runActivity(simulator.url, small.start, small.end, pgSpec, env);
  line('postgres', inPg, ndjson);
  const scratch = await mkdtemp(join(tmpdir(), 'bench-copy-'));
  const psqlSeconds = psqlCopy(pgSpec, join(scratch, 'events.copy'));
  await rm(scratch, { recursive: true, force: true });
  console.log(
    `  psql \\copy of the same ${inPg.records} rows into the same table: ${psqlSeconds.toFixed(1)} s; postgres destination / psql \\copy: ${(psqlSeconds / inPg.seconds).toFixed(2)}x the rate (the destination's time includes the download and decoding)`,
  );

  const large = window(gb * scale);
  await warm(simulator.url, large.start, large.end);
  const inPgLarge = await runActivity(simulator.url, large.start, large.end, await database(), env);
  line(`postgres ${scale}x`, inPgLarge, large.hours * EVENTS_PER_HOUR * APPROXIMATE_LINE_BYTES);
  console.log(
    `  postgres peak RSS ${(inPg.peakRss / MB).toFixed(0)} MB at 1x, ${(inPgLarge.peakRss / MB).toFixed(0)} MB at ${scale}x (${(((inPgLarge.peakRss - inPg.peakRss) / inPg.peakRss) * 100).toFixed(1)}%)`,
  );
} finally {
  simulator.child.kill('SIGTERM');
  await Promise.all([s3.stop(), pg.stop()]);
}
