// `amplitude-sync demo`: the whole path — simulator, Temporal, every stream — into a local directory,
// then a check of the output against the simulator's ground truth.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DAY_MS, floorToHour, HOUR_MS, parseIsoHour } from './amplitude/time.ts';
import type { WithTemporal } from './cli.ts';
import { parseConfig, syncSettings } from './config.ts';
import { eventHourPartition } from './destination/layout.ts';
import { DEFAULT_CREDENTIALS, startSimulator } from './simulator/index.ts';
import { formatSummary, runSync, SyncFailedError } from './sync-runner.ts';

export interface DemoOptions {
  out: string;
  days: number;
}

async function countLines(path: string): Promise<number> {
  const text = gunzipSync(await readFile(path)).toString('utf8');
  return text.split('\n').filter((line) => line.length > 0).length;
}

export async function runDemo(options: DemoOptions, withTemporal: WithTemporal): Promise<number> {
  const now = Date.now();
  const dataStart = floorToHour(now - options.days * DAY_MS);
  // The simulator runs half an hour ahead, so every hour the sync considers old enough is exportable.
  const sim = await startSimulator({ dataStart, now: now + HOUR_MS / 2, eventsPerHour: 200 });
  console.log(`Amplitude simulator on ${sim.urls.standard} with ${options.days} days of data`);
  try {
    const config = parseConfig(
      {
        api_key: DEFAULT_CREDENTIALS.standard.apiKey,
        secret_key: DEFAULT_CREDENTIALS.standard.secretKey,
        start_date: new Date(dataStart).toISOString(),
        base_url: sim.urls.standard,
        destination: { path: options.out },
      },
      {},
      'demo config',
    );
    return await withTemporal(config, async (client, taskQueue) => {
      try {
        const result = await runSync({
          client,
          workflowId: 'amplitude-sync-demo',
          taskQueue,
          settings: syncSettings(config),
          fullRefresh: true,
          onStarted: (runId) => console.log(`sync started: workflow amplitude-sync-demo, run ${runId}`),
        });
        console.log(`sync completed into ${options.out}\n${formatSummary(result)}`);
        const closeBefore = Date.parse(result.state.streams.events?.completeBefore ?? '');
        const expected = sim.groundTruth.eventHours(dataStart, closeBefore);
        let events = 0;
        for (const { hour, count } of expected) {
          const found = await countLines(join(options.out, eventHourPartition(parseIsoHour(hour)!)));
          if (found !== count) {
            console.error(`verification failed: ${hour} has ${found} events, the simulator served ${count}`);
            return 1;
          }
          events += count;
        }
        console.log(
          `verified: ${events} events in ${expected.length} hour partitions match the simulator's ground truth`,
        );
        return 0;
      } catch (error) {
        if (!(error instanceof SyncFailedError)) throw error;
        console.error(`sync failed: ${error.message}`);
        return 1;
      }
    });
  } finally {
    await sim.close();
  }
}
