// Real Temporal servers for tests: the CLI dev server and the time-skipping test server, found by
// src/temporal/binaries.ts. A test that needs a server and cannot start one fails with the reason.
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { type ResolvedExecutable, temporalCli, timeSkippingTestServer } from '../../src/temporal/binaries.ts';

export type ServerKind = 'dev-server' | 'time-skipping';

// Activity failures are expected in these tests; their warnings would bury the test output.
Runtime.install({ logger: new DefaultLogger('ERROR') });

async function start(
  kind: ServerKind,
  resolved: ResolvedExecutable,
  create: () => Promise<TestWorkflowEnvironment>,
): Promise<TestWorkflowEnvironment> {
  try {
    return await create();
  } catch (error) {
    throw new Error(
      `could not start the Temporal ${kind} from ${resolved.source}: ${(error as Error).message}\n` +
        'Run `npm run setup:temporal` (or set TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH).',
      { cause: error },
    );
  }
}

/** A dev server on 127.0.0.1; with `uiPort`, its Web UI too. */
export function startDevServer(options: { uiPort?: number } = {}): Promise<TestWorkflowEnvironment> {
  const resolved = temporalCli();
  return start('dev-server', resolved, () =>
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: resolved.executable,
        ip: '127.0.0.1',
        log: { format: 'pretty', level: 'error' },
        ...(options.uiPort ? { ui: true, uiPort: options.uiPort } : {}),
      },
    }),
  );
}

export function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  const resolved = timeSkippingTestServer();
  return start('time-skipping', resolved, () =>
    TestWorkflowEnvironment.createTimeSkipping({ server: { executable: resolved.executable } }),
  );
}

export function startServer(kind: ServerKind): Promise<TestWorkflowEnvironment> {
  return kind === 'dev-server' ? startDevServer() : startTimeSkippingServer();
}
