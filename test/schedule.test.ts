import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { type ScheduleHandle, ScheduleOverlapPolicy, WorkflowFailedError } from '@temporalio/client';
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
  startSimulatorOnRealClock,
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
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 30 }),
    ]);
  });
  after(async () => {
    await Promise.all([env?.teardown(), sim?.close()]);
  });

  /**
   * Triggers one run now and waits for it to end; returns its result (for a failed run, the partial
   * result its failure carries) and the first hour its export requests asked for.
   */
  async function triggerAndWait(handle: ScheduleHandle) {
    const actionsBefore = (await handle.describe()).info.recentActions.length;
    const requestsBefore = sim.requests.length;
    // The SDK's trigger() defaults to overlap ALLOW_ALL, and Temporal hands such runs no lastResult.
    await handle.trigger(ScheduleOverlapPolicy.SKIP);
    for (;;) {
      const { recentActions } = (await handle.describe()).info;
      if (recentActions.length > actionsBefore) {
        const { workflowId, firstExecutionRunId } = recentActions.at(-1)!.action.workflow;
        const { failed, result } = await env.client.workflow
          .getHandle(workflowId, firstExecutionRunId)
          .result()
          .then(
            (value) => ({ failed: false, result: value as SyncResult }),
            (error: unknown) => {
              if (!(error instanceof WorkflowFailedError)) throw error;
              const details = (error.cause as { details?: unknown[] } | undefined)?.details;
              return { failed: true, result: details?.[0] as SyncResult };
            },
          );
        const exports = sim.requests.slice(requestsBefore).filter((r) => r.path === '/api/2/export');
        return {
          workflowId,
          failed,
          result,
          firstHourAsked: Math.min(...exports.map((r) => r.exportHours!.start)),
        };
      }
      await sleep(100);
    }
  }

  it('each run starts where the previous ended: the first from the initial state, the next from lastResult', async () => {
    const out = await temporaryDirectory();
    // The initial state claims hours this destination never got; the count reconciliation of the last
    // day only (export_recheck_days 1) stays out of them, so the runs ask only what their state says.
    const config = simulatorConfig(dataStart, {
      destination: { path: out },
      streams: ['events'],
      export_recheck_days: 1,
    });
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
      assert.equal(described.policies.catchupWindow, RARELY, 'a catch-up window of one interval');

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
      // Visibility learns that the third run completed a moment after its result is known.
      let found = await previousState(env.client, scheduleId);
      for (let tries = 0; tries < 50 && !isDeepStrictEqual(found, third.result.state); tries++) {
        await sleep(100);
        found = await previousState(env.client, scheduleId);
      }
      assert.deepEqual(
        found,
        third.result.state,
        'a new schedule of the connection (or a sync after its deletion) continues from the newest scheduled run',
      );

      const elsewhere = settingsFor(
        simulatorConfig(dataStart, {
          destination: { path: await temporaryDirectory() },
          streams: ['events'],
        }),
      );
      await assert.rejects(
        upsertSyncSchedule({
          client: env.client,
          scheduleId,
          taskQueue,
          settings: elsewhere,
          everyMs: RARELY,
        }),
        (error: unknown) =>
          error instanceof ScheduleError &&
          /writes to .*; to sync into .*, delete it \(schedule --delete\) and create it again/.test(
            error.message,
          ),
        'a schedule does not carry its position over to another destination',
      );
      await assert.rejects(
        upsertSyncSchedule({
          client: env.client,
          scheduleId: `${scheduleId}-bad`,
          taskQueue,
          settings: settingsFor(config),
          everyMs: RARELY,
          initialState: { streams: { events: { completeBefore: 'soon' } } },
        }),
        /the state schedule .*-bad would start from is unusable: events: completeBefore "soon" is not a UTC time/,
      );

      await deleteSyncSchedule(env.client, scheduleId);
      await assert.rejects(deleteSyncSchedule(env.client, scheduleId), ScheduleError);
    });
  });

  it("a run after a failed one starts from the progress the failure kept (Temporal's lastFailure)", async () => {
    const out = await temporaryDirectory();
    const config = simulatorConfig(dataStart, { destination: { path: out }, streams: ['events'] });
    const scheduleId = uniqueTaskQueue('failing-connection');
    const taskQueue = uniqueTaskQueue('schedule');
    const badHour = dataStart + DAY + 5 * HOUR_MS;
    const worker = await workerFor(env, sim, config, taskQueue);
    await worker.runUntil(async () => {
      await upsertSyncSchedule({
        client: env.client,
        scheduleId,
        taskQueue,
        settings: settingsFor(config),
        everyMs: RARELY,
      });
      const handle = env.client.schedule.getHandle(scheduleId);
      sim.faults.add({
        endpoint: 'export',
        kind: 'too_large',
        when: { hours: { start: badHour, end: badHour } },
        times: 1000,
      });
      const failing = await triggerAndWait(handle);
      sim.faults.clear();
      assert.equal(failing.failed, true, 'an hour Amplitude never serves fails the run');
      assert.equal(failing.result.state.streams.events?.completeBefore, isoInstant(badHour));

      const next = await triggerAndWait(handle);
      assert.equal(next.failed, false);
      assert.equal(
        next.firstHourAsked,
        badHour - config.export_lookback_hours * HOUR_MS,
        "the next run continues from the failed run's progress, not from start_date",
      );
      await assertEventsMatch(
        out,
        sim,
        dataStart,
        Date.parse(next.result.state.streams.events!.completeBefore),
      );
      await deleteSyncSchedule(env.client, scheduleId);
    });
  });
});
