// What the benchmarks share: the simulator in a process of its own (so that RSS figures are the
// measured process's alone) serving from its export cache, and the export activity run in a fresh
// process (export-activity.ts).
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { AmplitudeClient } from '../src/amplitude/client.ts';
import { HOUR_MS, isoHour } from '../src/amplitude/time.ts';
import type { DestinationSpec } from '../src/destination/spec.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';
import { freePort } from '../test/helpers/ports.ts';

export const MB = 1e6;

export async function startSimulatorProcess(
  cacheDir: string,
  eventsPerHour: number,
): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/simulator/main.ts',
      '--port',
      String(port),
      '--days',
      '2',
      '--events-per-hour',
      String(eventsPerHour),
      '--cache-dir',
      cacheDir,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  for await (const line of createInterface({ input: child.stdout! })) {
    const match = /standard: (http:\/\/\S+)/.exec(line);
    if (match) return { child, url: match[1]! };
  }
  throw new Error('the simulator process ended before printing its address');
}

/** Downloads the export once and discards it, so that the simulator's cache is rendered before timing. */
export async function warm(url: string, start: number, end: number) {
  const amplitude = new AmplitudeClient({
    baseUrl: url,
    apiKey: DEFAULT_CREDENTIALS.standard.apiKey,
    secretKey: DEFAULT_CREDENTIALS.standard.secretKey,
  });
  const started = performance.now();
  const response = await amplitude.openExport(start, end - HOUR_MS);
  let bytes = 0;
  if (response.found) for await (const chunk of response.body) bytes += chunk.length;
  await amplitude.close();
  return { bytes, seconds: (performance.now() - started) / 1000 };
}

export interface ActivityFigures {
  records: number;
  partitions: number;
  seconds: number;
  cpuSeconds: number;
  rssBefore: number;
  peakRss: number;
  outputBytes: number;
}

/** The real export activity, in a fresh process, into `destination` (a temporary local directory by default). */
export async function runActivity(
  url: string,
  start: number,
  end: number,
  destination?: DestinationSpec,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ActivityFigures> {
  const child = spawn(
    process.execPath,
    // The flag the worker runs with (see bin/amplitude-sync.js).
    [
      '--max-semi-space-size=1',
      '--import',
      'tsx',
      'bench/export-activity.ts',
      url,
      isoHour(start),
      isoHour(end),
      ...(destination ? [JSON.stringify(destination)] : []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env },
  );
  let output = '';
  for await (const chunk of child.stdout!) output += chunk;
  const line = output.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as ActivityFigures;
  } catch {
    throw new Error(`the activity process printed no figures: ${output}`);
  }
}
