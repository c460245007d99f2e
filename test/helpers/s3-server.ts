// A real S3-compatible server for tests: S3Proxy (installed by scripts/setup-s3proxy.sh) over a fresh
// temporary directory, on 127.0.0.1 only, with a fixed test key. Like the embedded Temporal server
// (src/temporal/embedded.ts), it runs under a watchdog shell that stops it, and removes its
// directory, when the process that started it goes away, however it ends (kill -9 included).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { freePort } from './ports.ts';

export interface S3Server {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** The directory that holds the buckets, one folder each. */
  dataDir: string;
  stop(): Promise<void>;
}

const JAR = fileURLToPath(new URL('../../.s3proxy/s3proxy.jar', import.meta.url));
const FIX = 'Run `bash scripts/setup-s3proxy.sh` (it needs Maven, and Java 17 or newer to run S3Proxy).';
const ACCESS_KEY_ID = 'test-access-key';
const SECRET_ACCESS_KEY = 'test-secret-key';
const REGION = 'us-east-1';
const STARTUP_TIMEOUT_MS = 30_000;

// Exits with the server, which runs until this process closes the shell's stdin (by stop() or by
// exiting); the shell then stops it and removes $1. The pipe goes through fd 3 because a background
// command's stdin is /dev/null. A server that exits by itself leaves $1 (and its log) to stop().
const WATCHDOG = [
  'dir=$1; shift; exec 3<&0',
  '"$@" </dev/null 3<&- & server=$!',
  '(cat <&3 >/dev/null; kill $server 2>/dev/null && { while kill -0 $server 2>/dev/null; do sleep 0.2; done; rm -rf "$dir"; }) &',
  "trap 'kill $server 2>/dev/null' TERM INT HUP",
  'wait $server',
].join('\n');

export async function startS3Server(): Promise<S3Server> {
  if (!existsSync(JAR)) throw new Error(`S3Proxy is not installed (no ${JAR}). ${FIX}`);
  if (spawnSync('java', ['-version']).error) throw new Error(`no \`java\` on PATH to run S3Proxy. ${FIX}`);

  const home = await mkdtemp(join(tmpdir(), 's3proxy-'));
  const dataDir = join(home, 'data');
  await mkdir(dataDir);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const properties = join(home, 's3proxy.properties');
  await writeFile(
    properties,
    [
      `s3proxy.endpoint=${endpoint}`,
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.identity=${ACCESS_KEY_ID}`,
      `s3proxy.credential=${SECRET_ACCESS_KEY}`,
      'jclouds.provider=filesystem-nio2',
      `jclouds.filesystem.basedir=${dataDir}`,
      // Unused by a local backend, but S3Proxy insists on them.
      'jclouds.identity=local',
      'jclouds.credential=local',
    ].join('\n'),
  );
  const logPath = join(home, 's3proxy.log');
  const log = await open(logPath, 'a');
  const server = spawn(
    'sh',
    ['-c', WATCHDOG, 'watchdog', home, 'java', '-jar', JAR, '--properties', properties],
    {
      detached: true,
      stdio: ['pipe', log.fd, log.fd],
      env: { ...process.env, LOG_LEVEL: 'warn' },
    },
  );
  await log.close();
  server.unref();
  (server.stdin as NodeJS.WritableStream & { unref?(): void }).unref?.();

  const stop = async () => {
    const exited = server.exitCode === null && server.signalCode === null && once(server, 'exit');
    server.stdin?.end();
    if (exited) {
      server.ref();
      await Promise.race([exited, sleep(15_000, undefined, { ref: false })]);
    }
    await rm(home, { recursive: true, force: true });
  };
  const credentials = { accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY };
  try {
    await waitUntilAnswering(
      new S3Client({ endpoint, region: REGION, forcePathStyle: true, credentials }),
      server,
      logPath,
    );
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, region: REGION, ...credentials, dataDir, stop };
}

async function waitUntilAnswering(client: S3Client, server: ChildProcess, logPath: string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  const failure = async (reason: string) => {
    const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-15).join('\n');
    return new Error(`S3Proxy ${reason}. ${FIX}\n--- ${logPath} ---\n${tail}`);
  };
  try {
    for (;;) {
      if (server.exitCode !== null) throw await failure(`exited at start-up (code ${server.exitCode})`);
      try {
        await client.send(new ListBucketsCommand({}));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw await failure(
            `did not answer within ${STARTUP_TIMEOUT_MS / 1000} s: ${(error as Error).message}`,
          );
        }
        await sleep(100);
      }
    }
  } finally {
    client.destroy();
  }
}
