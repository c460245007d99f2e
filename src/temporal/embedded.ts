// An embedded Temporal dev server for one machine: its database is a local file, so workflow
// histories (and with them the sync state) survive restarts; the Temporal UI comes with it.
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporalCli } from './binaries.ts';

export interface EmbeddedTemporal {
  env: TestWorkflowEnvironment;
  uiUrl: string;
  databasePath: string;
}

/** Where the embedded server keeps its database: AMPLITUDE_SYNC_HOME, else ./.amplitude-sync. */
export function embeddedHome(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.AMPLITUDE_SYNC_HOME ?? '.amplitude-sync');
}

async function freePort(preferred: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((done, fail) => {
      const server = createServer();
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => done(typeof address === 'object' && address ? address.port : port));
      });
    });
  return tryPort(preferred).catch(() => tryPort(0));
}

export async function startEmbeddedTemporal(home = embeddedHome()): Promise<EmbeddedTemporal> {
  await mkdir(home, { recursive: true });
  const databasePath = join(home, 'temporal.db');
  const uiPort = await freePort(8233);
  const resolved = temporalCli();
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        executable: resolved.executable,
        ip: '127.0.0.1',
        dbFilename: databasePath,
        ui: true,
        uiPort,
        log: { format: 'pretty', level: 'error' },
      },
    });
    return { env, uiUrl: `http://127.0.0.1:${uiPort}`, databasePath };
  } catch (error) {
    throw new Error(
      `could not start the embedded Temporal server from ${resolved.source}: ${(error as Error).message}. ` +
        'Run `npm run setup:temporal`, set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to use a running Temporal.',
      { cause: error },
    );
  }
}
