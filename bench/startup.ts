// Start-up cost of the one-shot command as a user runs it: `amplitude-sync sync` of a small stream
// against the simulator, with the embedded Temporal server. Prints the time from starting the command
// to its first Amplitude request, the whole run's time, and the command process's peak RSS (VmHWM),
// first with no bundle cached (the first start after an install or an edit), then with it; from the
// TypeScript sources (tsx) and from the compiled JavaScript that `npm run build` writes to dist/.
//
//   npm run build && node --import tsx bench/startup.ts
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DAY_MS, floorToDay } from '../src/amplitude/time.ts';
import { DEFAULT_CREDENTIALS, startSimulator } from '../src/simulator/index.ts';

const MB = 1024 * 1024;
const sim = await startSimulator({ dataStart: floorToDay(Date.now()) - 2 * DAY_MS, eventsPerHour: 5 });
const dir = await mkdtemp(join(tmpdir(), 'bench-startup-'));
const config = join(dir, 'connection.json');
await writeFile(
  config,
  JSON.stringify({
    api_key: DEFAULT_CREDENTIALS.standard.apiKey,
    secret_key: DEFAULT_CREDENTIALS.standard.secretKey,
    start_date: new Date(floorToDay(Date.now()) - DAY_MS).toISOString(),
    base_url: sim.urls.standard,
    streams: ['annotations'],
    destination: { path: join(dir, 'out') },
  }),
);

async function peakRss(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function run(label: string, bundleCache: string, fromSources: boolean) {
  const before = sim.requests.length;
  const started = performance.now();
  // As a user runs it: the file itself, so its #! line's Node flags and environment apply.
  const child = spawn('bin/amplitude-sync.js', ['sync', '--config', config], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      AMPLITUDE_SYNC_HOME: join(dir, `home-${label}`),
      AMPLITUDE_SYNC_BUNDLE_CACHE: bundleCache,
      ...(fromSources ? { AMPLITUDE_SYNC_FROM_SOURCES: '1' } : { AMPLITUDE_SYNC_COMPILED_ONLY: '1' }),
    },
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => {
    stderr += chunk;
  });
  let firstRequest: number | undefined;
  let peak = 0;
  const sampler = setInterval(async () => {
    if (firstRequest === undefined && sim.requests.length > before)
      firstRequest = performance.now() - started;
    peak = Math.max(peak, await peakRss(child.pid!));
  }, 20);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sampler);
  if (code !== 0) throw new Error(`sync exited ${code}: ${stderr}`);
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `  ${label.padEnd(34)} first Amplitude request after ${((firstRequest ?? Number.NaN) / 1000).toFixed(1)} s, done in ${seconds.toFixed(1)} s, peak RSS of the command ${(peak / MB).toFixed(0)} MB`,
  );
}

try {
  console.log(`amplitude-sync sync of one small stream, embedded Temporal; Node ${process.version}`);
  for (const fromSources of [true, false]) {
    const cache = join(dir, `bundle-cache-${fromSources}`);
    const code = fromSources ? 'sources (tsx)' : 'compiled (dist/)';
    await run(`${code}, no bundle cached`, cache, fromSources);
    await run(`${code}, bundle cached`, cache, fromSources);
    await run(`${code}, bundle cached`, cache, fromSources);
  }
} finally {
  await sim.close();
  await rm(dir, { recursive: true, force: true });
}
