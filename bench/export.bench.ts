import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DAY_MS, floorToDay, HOUR_MS, isoHour } from '../src/amplitude/time.ts';
import { type BareLoopFigures, bareLoop, cachedMembers } from './bare-loop.ts';
import { type ActivityFigures, runActivity, startSimulatorProcess, warm } from './harness.ts';

const MB = 1e6;
const EVENTS_PER_HOUR = 200_000;
const APPROXIMATE_LINE_BYTES = 1780;

const { values } = parseArgs({
  options: {
    gb: { type: 'string', default: '1' },
    scale: { type: 'string', default: '4' },
    'cache-dir': { type: 'string', default: '.bench-cache' },
    rounds: { type: 'string', default: '2' },
  },
});
const cacheDir = resolve(values['cache-dir']);
const rounds = Math.max(1, Number(values.rounds));

async function measure(url: string, gigabytes: number) {
  const hours = Math.max(1, Math.round((gigabytes * 1e9) / (EVENTS_PER_HOUR * APPROXIMATE_LINE_BYTES)));
  const start = floorToDay(Date.now()) - 2 * DAY_MS;
  const end = start + hours * HOUR_MS;
  const warmed = await warm(url, start, end);
  console.log(
    `\n== ${hours} upload hours (${isoHour(start)}..${isoHour(end - HOUR_MS)}); zip of ${(warmed.bytes / MB).toFixed(0)} MB cached in ${warmed.seconds.toFixed(1)} s`,
  );

  // Alternated and repeated: the best run of each is compared, so a noisy neighbour slowing one run
  // does not decide the ratio. Peak RSS is the highest of all activity runs.
  const members = await cachedMembers(cacheDir, start, end);
  const activities: ActivityFigures[] = [];
  const baselines: BareLoopFigures[] = [];
  for (let round = 0; round < rounds; round++) {
    activities.push(await runActivity(url, start, end));
    baselines.push(await bareLoop(members));
  }
  const activity = { ...activities.reduce((a, b) => (b.seconds < a.seconds ? b : a)) };
  activity.peakRss = Math.max(...activities.map((run) => run.peakRss));
  const baseline = baselines.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  console.log(
    `  runs: activity ${activities.map((run) => run.seconds.toFixed(1)).join(' / ')} s, baseline ${baselines.map((run) => run.seconds.toFixed(1)).join(' / ')} s (best of ${rounds} compared)`,
  );
  const ndjsonMB = baseline.bytes / MB;
  const activityRate = ndjsonMB / activity.seconds;
  const baselineRate = ndjsonMB / baseline.seconds;
  console.log(
    `  baseline (gunzip + split + JSON.parse): ${baseline.events} events, ${ndjsonMB.toFixed(0)} MB NDJSON in ${baseline.seconds.toFixed(2)} s = ${baselineRate.toFixed(1)} MB/s, ${Math.round(baseline.events / baseline.seconds)} events/s`,
  );
  console.log(
    `  export activity (HTTP -> zip -> gunzip -> parse -> normalise -> gzip partitions): ${activity.records} events in ${activity.seconds.toFixed(2)} s = ${activityRate.toFixed(1)} MB/s, ${Math.round(activity.records / activity.seconds)} events/s, ${(activity.cpuSeconds / activity.seconds).toFixed(2)} cores busy`,
  );
  console.log(`  ratio to baseline: ${(activityRate / baselineRate).toFixed(2)}`);
  console.log(
    `  activity process RSS: ${(activity.rssBefore / MB).toFixed(0)} MB before, ${(activity.peakRss / MB).toFixed(0)} MB peak; output ${activity.partitions} partitions, ${(activity.outputBytes / MB).toFixed(0)} MB gzip`,
  );
  if (activity.records !== baseline.events) {
    console.log(
      `  MISMATCH: the activity wrote ${activity.records} events, the baseline read ${baseline.events}`,
    );
  }
  return { ratio: activityRate / baselineRate, peakRss: activity.peakRss };
}

await mkdir(cacheDir, { recursive: true });
const { child, url } = await startSimulatorProcess(cacheDir, EVENTS_PER_HOUR);
try {
  const gb = Number(values.gb);
  const scale = Number(values.scale);
  console.log(`simulator at ${url}; ${gb} GB then ${gb * scale} GB of NDJSON; Node ${process.version}`);
  const small = await measure(url, gb);
  const large = await measure(url, gb * scale);
  console.log(
    `\nsummary: ratio ${small.ratio.toFixed(2)} / ${large.ratio.toFixed(2)}; peak RSS ${(small.peakRss / MB).toFixed(0)} MB / ${(large.peakRss / MB).toFixed(0)} MB (${(((large.peakRss - small.peakRss) / small.peakRss) * 100).toFixed(1)}% at ${scale}x the data)`,
  );
} finally {
  child.kill('SIGTERM');
}
