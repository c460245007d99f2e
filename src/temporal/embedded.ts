// An embedded Temporal dev server for one machine: its database is a local file, so workflow
// histories (and with them the sync state) survive restarts; the Temporal UI comes with it.
//
// The server runs in a session of its own, so that Ctrl-C in the terminal reaches this command only
// (which then cancels its sync cleanly through the server), and under a watchdog shell that stops it
// when this process goes away, however it ends (kill -9 included): no server outlives its command.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, open } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { temporalCli } from './binaries.ts';
import { lockHome } from './home-lock.ts';

export interface EmbeddedTemporal {
  client: Client;
  nativeConnection: NativeConnection;
  address: string;
  uiUrl: string;
  databasePath: string;
  /** Closes the connections, stops the server and releases the home directory. */
  stop(): Promise<void>;
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

// Reads its stdin (a pipe from this process) until it closes, then stops the server.
const WATCHDOG =
  '"$@" </dev/null & server=$!; trap \'kill $server\' TERM INT HUP; cat >/dev/null; kill $server 2>/dev/null; wait $server';

const STARTUP_TIMEOUT_MS = 60_000;

export async function startEmbeddedTemporal(
  command: string,
  home = embeddedHome(),
): Promise<EmbeddedTemporal> {
  await mkdir(home, { recursive: true });
  const release = await lockHome(home, command);
  const databasePath = join(home, 'temporal.db');
  const resolved = temporalCli();
  try {
    if (resolved.executable.type !== 'existing-path') {
      throw new Error('no Temporal CLI was found');
    }
    const port = await freePort(0);
    const uiPort = await freePort(8233);
    const address = `127.0.0.1:${port}`;
    const log = await open(join(home, 'temporal-server.log'), 'a');
    const server = spawn(
      'sh',
      [
        '-c',
        WATCHDOG,
        'watchdog',
        resolved.executable.path,
        'server',
        'start-dev',
        '--ip',
        '127.0.0.1',
        '--port',
        String(port),
        '--ui-port',
        String(uiPort),
        '--db-filename',
        databasePath,
        '--namespace',
        'default',
        '--log-format',
        'pretty',
        '--log-level',
        'warn',
        '--dynamic-config-value',
        'frontend.enableUpdateWorkflowExecution=true',
        '--dynamic-config-value',
        'frontend.enableUpdateWorkflowExecutionAsyncAccepted=true',
      ],
      { detached: true, stdio: ['pipe', log.fd, log.fd] },
    );
    await log.close();
    server.unref();
    (server.stdin as NodeJS.WritableStream & { unref?(): void }).unref?.();
    const stopServer = async () => {
      if (server.exitCode === null && server.signalCode === null) {
        const exited = once(server, 'exit');
        server.ref();
        server.stdin?.end();
        await Promise.race([exited, sleep(15_000, undefined, { ref: false })]);
      }
    };
    try {
      const { client, nativeConnection } = await connectWhenReady(address, server, home);
      return {
        client,
        nativeConnection,
        address,
        uiUrl: `http://127.0.0.1:${uiPort}`,
        databasePath,
        async stop() {
          await nativeConnection.close().catch(() => {});
          await stopServer();
          await release();
        },
      };
    } catch (error) {
      await stopServer();
      throw error;
    }
  } catch (error) {
    await release();
    throw new Error(
      `could not start the embedded Temporal server from ${resolved.source}: ${(error as Error).message}. ` +
        'Run `npm run setup:temporal`, set TEMPORAL_CLI_PATH, or set TEMPORAL_ADDRESS to use a running Temporal.',
      { cause: error },
    );
  }
}

async function connectWhenReady(address: string, server: ChildProcess, home: string) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  for (;;) {
    if (server.exitCode !== null) {
      throw new Error(
        `the server exited at start-up (code ${server.exitCode}); see ${join(home, 'temporal-server.log')}`,
      );
    }
    try {
      // One native connection for the worker and the client: no second (gRPC-JS) channel in the process.
      const nativeConnection = await NativeConnection.connect({ address });
      try {
        await nativeConnection.workflowService.getSystemInfo({});
      } catch (error) {
        await nativeConnection.close().catch(() => {});
        throw error;
      }
      return { client: new Client({ connection: nativeConnection }), nativeConnection };
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `the server did not answer within ${STARTUP_TIMEOUT_MS / 1000} s: ${(error as Error).message}`,
        );
      }
      await sleep(250);
    }
  }
}
