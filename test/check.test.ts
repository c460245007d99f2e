import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { ActivityFailure, ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { FailureType } from '../src/amplitude/errors.ts';
import type { check } from '../src/workflows/check.ts';
import {
  type Simulator,
  simulatorConfig,
  startSimulator,
  uniqueTaskQueue,
  workerFor,
} from './helpers/harness.ts';
import { type ServerKind, startServer } from './helpers/temporal.ts';

const DAY = 86_400_000;
const now = Date.UTC(2024, 2, 10, 12);

for (const kind of ['dev-server', 'time-skipping'] as ServerKind[]) {
  describe(`check workflow on the ${kind}`, () => {
    let env: TestWorkflowEnvironment;
    let sim: Simulator;
    before(async () => {
      [env, sim] = await Promise.all([startServer(kind), startSimulator({ dataStart: now - 3 * DAY, now })]);
    });
    after(async () => {
      await Promise.all([env?.teardown(), sim?.close()]);
    });

    async function runCheck(config: ReturnType<typeof simulatorConfig>) {
      const taskQueue = uniqueTaskQueue('check');
      const worker = await workerFor(env, sim, config, taskQueue);
      return worker.runUntil(
        env.client.workflow.execute<typeof check>('check', { taskQueue, workflowId: taskQueue }),
      );
    }

    async function failureOf(config: ReturnType<typeof simulatorConfig>): Promise<ApplicationFailure> {
      const error = await runCheck(config).then(
        () => assert.fail('the check should fail'),
        (error: unknown) => error,
      );
      assert.ok(error instanceof WorkflowFailedError);
      assert.ok(error.cause instanceof ActivityFailure);
      assert.ok(error.cause.cause instanceof ApplicationFailure);
      return error.cause.cause;
    }

    it('passes with the right key in the right region', async () => {
      const result = await runCheck(simulatorConfig(now - DAY));
      assert.equal(result.baseUrl, sim.urls.standard);
      const eu = await runCheck(simulatorConfig(now - DAY, {}, 'eu'));
      assert.equal(eu.baseUrl, sim.urls.eu);
    });

    it('fails fast, without retrying, on a bad key', async () => {
      const before = sim.requests.length;
      const failure = await failureOf(simulatorConfig(now - DAY, { secret_key: 'wrong' }));
      assert.equal(failure.type, FailureType.AuthFailed);
      assert.equal(failure.nonRetryable, true);
      assert.match(failure.message, /invalid API key or wrong data region/);
      assert.equal(sim.requests.length - before, 1, 'one request: an auth failure is not retried');
    });

    it('fails on a key of the other data region, naming the region as a cause', async () => {
      const euKeysOnStandard = simulatorConfig(now - DAY, { data_region: 'Standard Server' }, 'eu');
      const failure = await failureOf(euKeysOnStandard);
      assert.equal(failure.type, FailureType.AuthFailed);
      assert.match(failure.message, /HTTP 403.*Invalid API Key.*wrong data region/);
    });
  });
}
