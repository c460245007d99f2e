// A sync started the way the Temporal UI starts it: workflow type `sync`, input {"connection": ...},
// on a worker that serves several connections with their own credentials (dev server).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { floorToDay, HOUR_MS } from '../src/amplitude/time.ts';
import { workflowBundle } from '../src/workflow-bundle.ts';
import type { SyncResult } from '../src/workflows/types.ts';
import {
  type Simulator,
  simulatorConfig,
  startSimulatorOnRealClock,
  temporaryDirectory,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { assertEventsMatch } from './helpers/output.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;

describe('a sync started by connection name, as the Temporal UI starts it (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  let webDir: string;
  let euDir: string;
  let stopWorker: () => Promise<void>;
  const taskQueue = uniqueTaskQueue('by-name');
  const dataStart = floorToDay(Date.now() - 4 * HOUR_MS) - DAY;
  let runs = 0;

  before(async () => {
    [env, sim, webDir, euDir] = await Promise.all([
      startDevServer(),
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 20 }),
      temporaryDirectory('by-name-web-'),
      temporaryDirectory('by-name-eu-'),
    ]);
    const fields = { request_time_range: 1, streams: ['events', 'annotations'] };
    const worker = await workerFor(env, sim, simulatorConfig(dataStart), taskQueue, {}, [
      { name: 'web-prod', config: simulatorConfig(dataStart, { ...fields, destination: { path: webDir } }) },
      {
        name: 'eu-app',
        config: simulatorConfig(dataStart, { ...fields, destination: { path: euDir } }, 'eu'),
      },
    ]);
    const running = worker.run();
    stopWorker = async () => {
      worker.worker.shutdown();
      await running;
    };
  });
  after(async () => {
    await stopWorker?.();
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  /** Starts `sync` with the input as the UI sends it (a workflow ID the UI made up), and waits. */
  async function start(input: unknown): Promise<{ workflowId: string; result: Promise<SyncResult> }> {
    const workflowId = `ui-started-${++runs}-${Date.now()}`;
    const handle = await env.client.workflow.start('sync', {
      taskQueue,
      workflowId,
      args: input === undefined ? [] : [input],
    });
    return { workflowId, result: handle.result() as Promise<SyncResult> };
  }

  async function workflowTaskFailures(workflowId: string): Promise<number> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return (history.events ?? []).filter((event) => event.workflowTaskFailedEventAttributes).length;
  }

  it('{"connection": "web-prod"} syncs with that connection; the next one reads only the lookback', async () => {
    const first = await (await start({ connection: 'web-prod' })).result;
    const events = first.streams.events!;
    assert.equal(events.status, 'complete');
    const mark = Date.parse(events.completeBefore!);
    assert.ok(mark >= dataStart + DAY, `the watermark reached ${events.completeBefore}`);
    const count = await assertEventsMatch(webDir, sim, dataStart, mark, { laterHoursMayExist: true });
    assert.ok(count > 0);
    assert.ok(
      events.slices >= 24,
      `the first sync read every hour from start_date (${events.slices} windows)`,
    );

    // A new workflow ID, as every UI start has: the state comes from the connection, not the ID.
    const second = await (await start({ connection: 'web-prod' })).result;
    const again = second.streams.events!;
    assert.equal(again.status, 'complete');
    assert.ok(Date.parse(again.completeBefore!) >= mark);
    assert.ok(
      again.slices <= 6 + 3,
      `the second sync read the lookback only (${again.slices} windows, 6 h lookback)`,
    );
    await assertEventsMatch(webDir, sim, dataStart, Date.parse(again.completeBefore!), {
      laterHoursMayExist: true,
    });

    // Overrides: one stream, from a later start_date, everything again.
    const refreshed = await (
      await start({
        connection: 'web-prod',
        streams: ['annotations'],
        full_refresh: true,
        start_date: new Date(dataStart + DAY).toISOString().slice(0, 10),
      })
    ).result;
    assert.deepEqual(Object.keys(refreshed.streams), ['annotations']);
    assert.equal(refreshed.streams.annotations?.status, 'complete');
    assert.deepEqual(
      refreshed.state.streams.events,
      second.state.streams.events,
      'other streams keep their state',
    );
  });

  it("the Temporal UI's workflow list filters syncs by connection and stream (search attributes)", async () => {
    const { workflowId, result } = await start({ connection: 'web-prod', streams: ['annotations'] });
    await result;
    const listed = async (query: string) => {
      const ids: string[] = [];
      for await (const info of env.client.workflow.list({ query })) ids.push(info.workflowId);
      return ids.sort();
    };
    let byConnection: string[] = [];
    for (let tries = 0; tries < 50 && !byConnection.includes(workflowId); tries++) {
      byConnection = await listed(`AmplitudeConnection = 'web-prod'`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(byConnection.includes(workflowId), 'the sync is found by its connection');
    assert.ok(byConnection.includes(`${workflowId}/annotations`), 'and so is its stream workflow');
    let byStream: string[] = [];
    for (let tries = 0; tries < 50 && !byStream.includes(`${workflowId}/annotations`); tries++) {
      byStream = await listed(`AmplitudeConnection = 'web-prod' AND AmplitudeStream = 'annotations'`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(byStream.includes(`${workflowId}/annotations`));
    assert.ok(!byStream.includes(workflowId), 'the sync itself has no stream');
    assert.deepEqual(await listed(`AmplitudeConnection = 'eu-app' AND WorkflowId = '${workflowId}'`), []);
  });

  it('one worker serves two connections with their own credentials', async () => {
    const result = await (await start({ connection: 'eu-app', streams: ['events'] })).result;
    const events = result.streams.events!;
    assert.equal(events.status, 'complete');
    await assertEventsMatch(euDir, sim, dataStart, Date.parse(events.completeBefore!), {
      laterHoursMayExist: true,
    });
  });

  const invalid: Array<[string, unknown, RegExp]> = [
    ['an unknown connection', { connection: 'web-staging' }, /No connection "web-staging".*web-prod, eu-app/],
    ['no connection on a worker of two', {}, /serve 2 connections \(web-prod, eu-app\): name one/],
    ['no input at all on a worker of two', undefined, /serve 2 connections/],
    [
      'an unknown stream',
      { connection: 'web-prod', streams: ['evnts'] },
      /streams: unknown stream "evnts": use events/,
    ],
    [
      'a malformed date',
      { connection: 'web-prod', start_date: 'yesterday' },
      /start_date: start_date is not a valid time/,
    ],
    [
      'an extra field',
      { connection: 'web-prod', stream: ['events'] },
      /stream: unknown field; the fields are connection, streams/,
    ],
    [
      'a wrong type',
      { connection: 'web-prod', full_refresh: 'yes' },
      /full_refresh: full_refresh must be true or false/,
    ],
    ['not an object', 'web-prod', /must be a JSON object such as \{"connection": "web-prod"\}/],
    ['internal settings that are incomplete', { settings: { streams: ['events'] } }, /settings\.startDate/],
  ];
  for (const [what, input, message] of invalid) {
    it(`${what} fails the workflow at once, naming the field and the fix`, async () => {
      const { workflowId, result } = await start(input);
      await assert.rejects(result, (error: unknown) => {
        assert.ok(error instanceof WorkflowFailedError, String(error));
        assert.ok(error.cause instanceof ApplicationFailure, String(error.cause));
        assert.ok(
          (error.cause.failure?.message ?? error.cause.message).match(message),
          `${error.cause.message} should match ${message}`,
        );
        assert.ok(
          ['InvalidSyncInput', 'UnknownConnection'].includes(error.cause.type ?? ''),
          error.cause.type ?? '',
        );
        assert.equal(error.cause.nonRetryable, true);
        return true;
      });
      assert.equal(await workflowTaskFailures(workflowId), 0, 'no workflow task failed');
    });
  }

  it('a failed start replays deterministically', async () => {
    const { workflowId, result } = await start({ connection: 'web-prod', streams: [] });
    await assert.rejects(result, (error: WorkflowFailedError) =>
      /streams is empty/.test(error.cause?.message ?? ''),
    );
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, workflowId);
  });
});
