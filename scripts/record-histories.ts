// Records workflow histories of real runs (a real dev server, the simulator) into test/histories,
// for test/replay.test.ts. Re-record after an intended change to workflow code, under a new tag (the
// patch it came with), keeping the old files while runs recorded with them can still be in flight:
//
//   node --import tsx scripts/record-histories.ts <tag>
import { execFile } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { floorToHour, HOUR_MS } from '../src/amplitude/time.ts';
import { runSync } from '../src/sync-runner.ts';
import { temporalCli } from '../src/temporal/binaries.ts';
import {
  FAST_TUNING,
  settingsFor,
  simulatorConfig,
  startSimulator,
  temporaryDirectory,
  workerFor,
} from '../test/helpers/harness.ts';
import { startDevServer } from '../test/helpers/temporal.ts';

const OUT = new URL('../test/histories/', import.meta.url).pathname;
const TAG = process.argv[2];
const { version } = JSON.parse(
  await import('node:fs/promises').then((fs) =>
    fs.readFile('node_modules/@temporalio/workflow/package.json', 'utf8'),
  ),
) as { version: string };

/** The history as the Temporal CLI prints it (the JSON form replay reads). */
async function save(env: TestWorkflowEnvironment, workflowId: string, name: string): Promise<void> {
  const cli = temporalCli().executable;
  if (cli.type !== 'existing-path')
    throw new Error('recording needs the temporal CLI: run npm run setup:temporal');
  const { stdout } = await promisify(execFile)(
    cli.path,
    ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', env.address],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const file = join(OUT, `${name}-sdk-${version}${TAG ? `-${TAG}` : ''}.json`);
  const history = JSON.parse(stdout);
  // Replay needs the workflow ID (child workflow IDs derive from it); the history does not hold it.
  await writeFile(file, `${JSON.stringify({ workflowId, history }, null, 1)}\n`);
  console.log(`recorded ${file} (${history.events.length} events)`);
}

await mkdir(OUT, { recursive: true });
const env = await startDevServer();
const dataStart = floorToHour(Date.now()) - 30 * HOUR_MS;
const sim = await startSimulator({
  dataStart,
  now: Date.now() + HOUR_MS / 2,
  eventsPerHour: 20,
  nominalEventBytes: 1300,
  exportSizeLimitBytes: 7 * 20 * 1300,
});
try {
  const out = await temporaryDirectory();
  const config = simulatorConfig(dataStart, { destination: { path: out } });
  const taskQueue = 'record-histories';
  const worker = await workerFor(env, sim, config, taskQueue);
  await worker.runUntil(async () => {
    await env.client.workflow.execute('check', { taskQueue, workflowId: 'record-check' });
    await save(env, 'record-check', 'check');
    // All six streams; the export windows are refused whole and split; the events stream continues as
    // new; one day answers 404, goes on the re-check list and is asked again by the next sync.
    const day = Math.floor(dataStart / (24 * HOUR_MS)) * 24 * HOUR_MS + 24 * HOUR_MS;
    sim.faults.add({
      endpoint: 'export',
      kind: 'not_found',
      when: { hours: { start: day, end: day + 5 * HOUR_MS } },
      times: 3,
    });
    const settings = settingsFor(config, {
      ...FAST_TUNING,
      exportConcurrency: 1,
      continueAsNewAfterEvents: 60,
    });
    await runSync({ client: env.client, workflowId: 'record-sync', taskQueue, settings });
    await save(env, 'record-sync', 'sync');
    await save(env, 'record-sync/events', 'stream-events-last-run');
    await save(env, 'record-sync/active_users', 'stream-active-users');
    await save(env, 'record-sync/cohorts', 'stream-cohorts');
    await runSync({ client: env.client, workflowId: 'record-sync', taskQueue, settings });
    await save(env, 'record-sync/events', 'stream-events-recheck');
  });
} finally {
  await Promise.all([env.teardown(), sim.close()]);
}
