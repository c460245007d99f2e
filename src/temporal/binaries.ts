// Where the Temporal dev server (CLI) and the time-skipping test server come from: a path you give,
// then PATH, then what scripts/setup-temporal.sh installed, and only then the SDK's own download.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServerExecutable = { type: 'existing-path'; path: string } | { type: 'cached-download' };

export interface ResolvedExecutable {
  executable: ServerExecutable;
  /** How it was found, for logs and error messages. */
  source: string;
}

const PROJECT_BIN = fileURLToPath(new URL('../../.temporal/bin/', import.meta.url));

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(name: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function resolve(envVar: string, binary: string, env: NodeJS.ProcessEnv): ResolvedExecutable {
  const given = env[envVar];
  if (given) {
    if (!isExecutable(given)) throw new Error(`${envVar}=${given} is not an executable file`);
    return { executable: { type: 'existing-path', path: given }, source: `${envVar}=${given}` };
  }
  const fromPath = onPath(binary, env);
  if (fromPath)
    return { executable: { type: 'existing-path', path: fromPath }, source: `${fromPath} (PATH)` };
  const installed = join(PROJECT_BIN, binary);
  if (isExecutable(installed)) {
    return {
      executable: { type: 'existing-path', path: installed },
      source: `${installed} (setup-temporal)`,
    };
  }
  return {
    executable: { type: 'cached-download' },
    source: `the Temporal SDK's download (no ${envVar}, no ${binary} on PATH, no .temporal/bin)`,
  };
}

/** The `temporal` CLI, which runs the dev server (schedules, UI, persistence). */
export function temporalCli(env: NodeJS.ProcessEnv = process.env): ResolvedExecutable {
  return resolve('TEMPORAL_CLI_PATH', 'temporal', env);
}

/** The time-skipping test server, for tests that wait on long timers. */
export function timeSkippingTestServer(env: NodeJS.ProcessEnv = process.env): ResolvedExecutable {
  return resolve('TEMPORAL_TEST_SERVER_PATH', 'temporal-test-server', env);
}
