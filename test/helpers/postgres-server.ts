// A throwaway PostgreSQL cluster for tests: initdb into a temporary directory, the server on
// 127.0.0.1 at a free port with password (SCRAM) authentication, sockets in the temporary directory,
// a database, a superuser and a second role without CREATE rights on that database.
//
// The server runs under a watchdog shell in a session of its own (as in src/temporal/embedded.ts): the
// shell reads a pipe from this process and, when the pipe closes — stop(), or this process ending
// however it ends, kill -9 included — shuts the server down (fast shutdown) and removes the temporary
// directory. No cluster outlives the test process that started it.
//
// PostgreSQL refuses to run as root; when this process is root, initdb and the server run as the
// `postgres` OS user (or `nobody`), which owns the temporary directory.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { accessSync, constants, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import postgres from 'postgres';
import { freePort } from './ports.ts';

export interface PostgresServer {
  /** postgres://superuser:password@127.0.0.1:port/database */
  url: string;
  host: string;
  port: number;
  /** A superuser. */
  user: string;
  password: string;
  database: string;
  /** postgres://limited:password@127.0.0.1:port/database: a role that can connect but not create schemas or tables. */
  limitedUrl: string;
  limitedUser: string;
  limitedPassword: string;
  /** The cluster's data directory (inside a temporary directory that stop() removes). */
  dataDir: string;
  /** Where the unix socket is (the temporary directory). */
  socketDir: string;
  /** The directory of the PostgreSQL binaries used (psql is usually there too). */
  binDir: string;
  /** Milliseconds from the call to a ready database. */
  startupMs: number;
  /** Stops the server (fast shutdown: open connections are closed) and removes the temporary directory. */
  stop(): Promise<void>;
}

const INSTALL_HINT =
  'Install PostgreSQL (Debian/Ubuntu: `apt-get install postgresql`; macOS: `brew install postgresql`) ' +
  'or set PG_BIN to the directory that holds initdb and postgres.';

function hasServerBinaries(dir: string): boolean {
  try {
    accessSync(join(dir, 'initdb'), constants.X_OK);
    accessSync(join(dir, 'postgres'), constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The directory of initdb and postgres: $PG_BIN, else `pg_config --bindir`, else the newest /usr/lib/postgresql/N/bin. */
export function postgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PG_BIN) {
    if (hasServerBinaries(env.PG_BIN)) return env.PG_BIN;
    throw new Error(`PG_BIN=${env.PG_BIN} does not hold executable initdb and postgres. ${INSTALL_HINT}`);
  }
  const tried: string[] = [];
  try {
    const dir = execFileSync('pg_config', ['--bindir'], {
      encoding: 'utf8',
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (dir && hasServerBinaries(dir)) return dir;
    tried.push(`pg_config --bindir (${dir})`);
  } catch {
    tried.push('pg_config (not found)');
  }
  let versions: string[] = [];
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((name) => /^\d+(\.\d+)?$/.test(name));
  } catch {}
  versions.sort((a, b) => Number.parseFloat(b) - Number.parseFloat(a));
  for (const version of versions) {
    const dir = `/usr/lib/postgresql/${version}/bin`;
    if (hasServerBinaries(dir)) return dir;
  }
  tried.push('/usr/lib/postgresql/*/bin');
  throw new Error(
    `PostgreSQL server binaries (initdb, postgres) were not found (tried ${tried.join(', ')}). ${INSTALL_HINT}`,
  );
}

/** The uid/gid to run PostgreSQL as: none (this process's) unless this process is root. */
function serverIdentity(): { uid: number; gid: number; name: string } | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return undefined;
  let passwd = '';
  try {
    passwd = readFileSync('/etc/passwd', 'utf8');
  } catch {}
  for (const name of ['postgres', 'nobody']) {
    const line = passwd.split('\n').find((entry) => entry.startsWith(`${name}:`));
    const fields = line?.split(':');
    if (fields && fields.length >= 4) return { uid: Number(fields[2]), gid: Number(fields[3]), name };
  }
  throw new Error(
    'running as root, and PostgreSQL refuses to run as root, but there is no `postgres` (or `nobody`) user ' +
      'to run it as. Create one (`useradd --system postgres`) or run the tests as an ordinary user.',
  );
}

function run(
  file: string,
  args: string[],
  options: { uid?: number; gid?: number; cwd: string },
): Promise<{ code: number | null; output: string }> {
  return new Promise((done, fail) => {
    const child = spawn(file, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', fail);
    child.once('close', (code) => done({ code, output }));
  });
}

// $1 is the temporary directory, the rest the server's command line. The server runs in the background
// with stdin from /dev/null; a background subshell reads this script's stdin (the pipe from Node; saved
// as fd 3 because a background list's stdin is /dev/null) until EOF, then asks the server for a fast
// shutdown (SIGINT), waits for it to go and removes the temporary directory. The shell itself waits for
// the server, so it exits when the server does (Node sees a failed start-up that way).
const WATCHDOG = [
  'dir=$1; shift',
  'exec 3<&0',
  '"$@" </dev/null & server=$!',
  '( cat <&3 >/dev/null; kill -INT $server 2>/dev/null;' +
    ' while kill -0 $server 2>/dev/null; do sleep 0.05; done; rm -rf -- "$dir" ) >/dev/null 2>&1 &',
  'exec 3<&-',
  "trap 'kill -INT $server 2>/dev/null' TERM INT HUP",
  'wait $server; status=$?',
  'while kill -0 $server 2>/dev/null; do wait $server; status=$?; done',
  'exit $status',
].join('\n');

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

// Settings for a test server: no durability, little memory, no background noise.
const SERVER_SETTINGS = [
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'wal_level=minimal',
  'max_wal_senders=0',
  'shared_buffers=32MB',
  'max_connections=50',
  'autovacuum=off',
  'log_min_messages=warning',
  'log_destination=stderr',
  'logging_collector=off',
  'password_encryption=scram-sha-256',
  'dynamic_shared_memory_type=posix',
];

function randomSecret(): string {
  return randomBytes(18).toString('base64url');
}

export async function startPostgres(): Promise<PostgresServer> {
  const started = performance.now();
  const binDir = postgresBinDir();
  const identity = serverIdentity();
  const asServer = identity ? { uid: identity.uid, gid: identity.gid } : {};
  const tempDir = await mkdtemp(join(tmpdir(), 'pg-test-'));
  const removeTempDir = () => rm(tempDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  try {
    if (identity) await chown(tempDir, identity.uid, identity.gid);
    const dataDir = join(tempDir, 'data');
    const user = 'postgres';
    const password = randomSecret();
    const pwfile = join(tempDir, 'pwfile');
    await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
    if (identity) await chown(pwfile, identity.uid, identity.gid);

    const init = await run(
      join(binDir, 'initdb'),
      [
        '--pgdata',
        dataDir,
        '--username',
        user,
        '--pwfile',
        pwfile,
        '--auth',
        'scram-sha-256',
        '--encoding',
        'UTF8',
        '--locale',
        'C',
        '--no-sync',
      ],
      { ...asServer, cwd: tempDir },
    );
    await rm(pwfile, { force: true });
    if (init.code !== 0) {
      throw new Error(`initdb failed (exit code ${init.code}):\n${init.output.trim()}`);
    }

    // A free port can be taken between freePort() and the server's bind: try a few.
    let attempt = 0;
    for (;;) {
      attempt += 1;
      const port = await freePort();
      const logPath = join(tempDir, `server-${attempt}.log`);
      const { child, exited } = await spawnServer(binDir, tempDir, dataDir, port, logPath, asServer);
      const outcome = await waitUntilReady(logPath, exited);
      if (outcome === 'ready') {
        return await finishSetup({
          child,
          exited,
          binDir,
          tempDir,
          dataDir,
          port,
          user,
          password,
          started,
          removeTempDir,
        });
      }
      const log = await readFile(logPath, 'utf8').catch(() => '');
      if (outcome === 'exited' && /could not bind|Address already in use/.test(log) && attempt < 5) continue;
      await stopServer(child, exited);
      throw new Error(
        outcome === 'exited'
          ? `the server exited at start-up:\n${log.trim()}`
          : `the server was not ready within ${STARTUP_TIMEOUT_MS / 1000} s:\n${log.trim()}`,
      );
    }
  } catch (error) {
    await removeTempDir();
    const message = (error as Error).message;
    throw new Error(
      message.includes(INSTALL_HINT) ? message : `could not start a PostgreSQL test server: ${message}`,
      { cause: error },
    );
  }
}

async function spawnServer(
  binDir: string,
  tempDir: string,
  dataDir: string,
  port: number,
  logPath: string,
  asServer: { uid?: number; gid?: number },
): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const log = await open(logPath, 'a');
  const settings = [
    `listen_addresses=127.0.0.1`,
    `port=${port}`,
    `unix_socket_directories=${tempDir}`,
    ...SERVER_SETTINGS,
  ].flatMap((setting) => ['-c', setting]);
  const child = spawn(
    'sh',
    ['-c', WATCHDOG, 'pg-watchdog', tempDir, join(binDir, 'postgres'), '-D', dataDir, ...settings],
    {
      ...asServer,
      cwd: tempDir,
      detached: true,
      stdio: ['pipe', log.fd, log.fd],
    },
  );
  await log.close();
  const exited = once(child, 'exit');
  exited.catch(() => {});
  // Neither the child nor its pipe keep this process alive; when it ends, the pipe closes.
  child.unref();
  (child.stdin as NodeJS.WritableStream & { unref?(): void }).unref?.();
  child.stdin?.on('error', () => {});
  return { child, exited };
}

async function waitUntilReady(
  logPath: string,
  exited: Promise<unknown>,
): Promise<'ready' | 'exited' | 'timeout'> {
  let hasExited = false;
  exited.then(
    () => (hasExited = true),
    () => (hasExited = true),
  );
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const log = await readFile(logPath, 'utf8').catch(() => '');
    if (log.includes('database system is ready to accept connections')) return 'ready';
    if (hasExited) return 'exited';
    await sleep(10);
  }
  return 'timeout';
}

async function stopServer(child: ChildProcess, exited: Promise<unknown>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.ref();
  child.stdin?.end();
  const timedOut = Symbol('timeout');
  const outcome = await Promise.race([exited, sleep(STOP_TIMEOUT_MS, timedOut, { ref: false })]);
  if (outcome === timedOut && child.pid) {
    // Immediate shutdown of the whole session (watchdog, server and its processes).
    try {
      process.kill(-child.pid, 'SIGQUIT');
    } catch {}
    await Promise.race([exited, sleep(5_000, undefined, { ref: false })]);
  }
  child.unref();
}

async function finishSetup(options: {
  child: ChildProcess;
  exited: Promise<unknown>;
  binDir: string;
  tempDir: string;
  dataDir: string;
  port: number;
  user: string;
  password: string;
  started: number;
  removeTempDir: () => Promise<void>;
}): Promise<PostgresServer> {
  const { child, exited, binDir, tempDir, dataDir, port, user, password, started, removeTempDir } = options;
  const host = '127.0.0.1';
  const database = 'test';
  const limitedUser = 'limited';
  const limitedPassword = randomSecret();
  const stop = async () => {
    await stopServer(child, exited);
    await removeTempDir();
  };
  try {
    const admin = postgres({ host, port, user, password, database: 'postgres', max: 1, onnotice: () => {} });
    try {
      await admin.unsafe(`create database ${database}`);
      await admin.unsafe(`create role ${limitedUser} login password '${limitedPassword}'`);
      // PUBLIC has no CREATE on a new database; say so anyway, in case a template grants it.
      await admin.unsafe(`revoke create on database ${database} from public`);
    } finally {
      await admin.end();
    }
    const db = postgres({ host, port, user, password, database, max: 1, onnotice: () => {} });
    try {
      // PostgreSQL 15 no longer lets PUBLIC create in schema public; older versions do.
      await db.unsafe('revoke create on schema public from public');
    } finally {
      await db.end();
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const url = `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}`;
  const limitedUrl = `postgres://${limitedUser}:${encodeURIComponent(limitedPassword)}@${host}:${port}/${database}`;
  return {
    url,
    host,
    port,
    user,
    password,
    database,
    limitedUrl,
    limitedUser,
    limitedPassword,
    dataDir,
    socketDir: tempDir,
    binDir,
    startupMs: Math.round(performance.now() - started),
    stop,
  };
}
