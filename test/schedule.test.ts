import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type ScheduleHandle, ScheduleOverlapPolicy } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { floorToHour, HOUR_MS, isoInstant } from '../src/amplitude/time.ts';
import {
  deleteSyncSchedule,
  formatInterval,
  parseInterval,
  ScheduleError,
  upsertSyncSchedule,
} from '../src/schedule.ts';
import { previousState } from '../src/sync-runner.ts';
import type { SyncInput, SyncResult } from '../src/workflows/types.ts';
import {
  type Simulator,
  settingsFor,
  simulatorConfig,
  startSimulator,
  temporaryDirectory,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { assertEventsMatch } from './helpers/output.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;
// Long enough that the schedule never fires by itself during the test: runs come from trigger().
const RARELY = 365 * DAY;

describe('schedule intervals', () => {
  it('reads whole minutes, hours and days, at least one minute', () => {
    assert.equal(parseInterval('30m'), 30 * 60_000);
    assert.equal(parseInterval('1h'), HOUR_MS);
    assert.equal(parseInterval('2 d'), 2 * DAY);
    for (const bad of ['0m', '1.5h', 'hourly', '10s', '', '-1h'])
      assert.equal(parseInterval(bad), undefined, bad);
    assert.equal(formatInterval(90 * 60_000), '90m');
    assert.equal(formatInterval(6 * HOUR_MS), '6h');
    assert.equal(formatInterval(DAY), '1d');
  });
});

describe('a Temporal Schedule runs incremental syncs (dev server)', () => {
  let env: TestWorkflowEnvironment;
  let sim: Simulator;
  const dataStart = floorToHour(Date.now()) - 3 * DAY;

  before(async () => {
    [env, sim] = await Promise.all([
      startDevServer(),
      startSimulator({ dataStart, now: Date.now() + HOUR_MS / 2, eventsPerHour: 30 }),
    ]);
  });
  after(async () => {
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  /** Triggers one run now and waits for its result; returns it with the export requests it made. */
  async function triggerAndWait(handle: ScheduleHandle) {
    const actionsBefore = (await handle.describe()).info.recentActions.length;
    const requestsBefore = sim.requests.length;
    // The SDK's trigger() defaults to overlap ALLOW_ALL, and Temporal hands such runs no lastResult.
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    for (;;) {
      const { recentActions } = (await handle.describe()).info;
      if (recentActions.length > actionsBefore) {
        const { workflowId, firstExecutionRunId } = recentActions.at(-1)!.action.workflow;
        const result = (await env.client.workflow
          .getHandle(workflowId, firstExecutionRunId)
          .result()) as SyncResult;
        const exports = sim.requests.slice(requestsBefore).filter((r) => r.path === '/api/2/export');
        return { workflowId, result, firstHourAsked: Math.min(...exports.map((r) => r.exportHours!.start)) };
      }
      await sleep(100);
    }
  }

  it('each run starts where the previous ended: the first from the initial state, the next from lastResult', async () => {
    const out = await temporaryDirectory();
    const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
    const scheduleId = uniqueTaskQueue('scheduled-connection');
    const taskQueue = uniqueTaskQueue('schedule');
    const lookback = config.export_lookback_hours * HOUR_MS;
    const initialMark = dataStart + DAY;
    const initialState = { streams: { events: { completeBefore: isoInstant(initialMark) } } };
    const worker = await workerFor(env, sim, config, taskQueue);
    await worker.runUntil(async () => {
      const outcome = await upsertSyncSchedule({
        client: env.client,
        scheduleId,
        taskQueue,
        settings: settingsFor(config),
        everyMs: RARELY,
        initialState,
      });
      assert.equal(outcome, 'created');
      const handle = env.client.schedule.getHandle(scheduleId);
      const described = await handle.describe();
      assert.equal(described.policies.overlap, 'SKIP', 'two syncs of a connection never overlap');
      assert.equal(described.policies.catchupWindow, RARELY, 'an outage is followed by one run, not a burst');

      const first = await triggerAndWait(handle);
      assert.match(first.workflowId, new RegExp(`^${scheduleId}-`));
      assert.equal(
        first.firstHourAsked,
        initialMark - lookback,
        'the first run starts from the initial state',
      );
      const firstMark = Date.parse(first.result.state.streams.events!.completeBefore);
      assert.ok(firstMark > initialMark + DAY);

      const second = await triggerAndWait(handle);
      assert.equal(
        second.firstHourAsked,
        firstMark - lookback,
        "the next run starts from the previous run's result (lastResult), not the initial state",
      );
      await assertEventsMatch(
        out,
        sim,
        initialMark - lookback,
        Date.parse(second.result.state.streams.events!.completeBefore),
      );

      // Changing the interval keeps the initial state and the schedule's history of results.
      assert.equal(
        await upsertSyncSchedule({
          client: env.client,
          scheduleId,
          taskQueue,
          settings: settingsFor(config),
          everyMs: 2 * RARELY,
        }),
        'updated',
      );
      const updated = await handle.describe();
      assert.equal(updated.spec.intervals?.[0]?.every, 2 * RARELY);
      assert.deepEqual((updated.action.args?.[0] as SyncInput | undefined)?.initialState, initialState);
      const third = await triggerAndWait(handle);
      assert.equal(
        third.firstHourAsked,
        Date.parse(second.result.state.streams.events!.completeBefore) - lookback,
        'still incremental after the update',
      );

      assert.deepEqual(
        await readdir(join(out, '_manifests')),
        [scheduleId],
        "every scheduled run's manifest is filed under the schedule",
      );
      assert.equal((await readdir(join(out, '_manifests', scheduleId))).length, 3);
      assert.deepEqual(
        await previousState(env.client, scheduleId),
        third.result.state,
        'a manual sync of the connection (or a new schedule) continues from the newest scheduled run',
      );

      await deleteSyncSchedule(env.client, scheduleId);
      await assert.rejects(deleteSyncSchedule(env.client, scheduleId), ScheduleError);
    });
  });
});
