import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HOUR_MS } from '../src/amplitude/time.ts';
import { fileSafe } from '../src/destination/layout.ts';
import { ownerTag } from '../src/destination/partition-files.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';
import { finished, run, stackLines, start, waitForStderr, writeConnectionFile } from './helpers/cli.ts';
import { type Simulator, startSimulatorOnRealClock, temporaryDirectory } from './helpers/harness.ts';
import { assertEventsMatch } from './helpers/output.ts';

const DAY = 24 * HOUR_MS;
// Short heartbeats and retries, so that an attempt whose command died is retried in seconds.
const TUNING = JSON.stringify({
  exportHeartbeatTimeoutMs: 3000,
  retryInitialIntervalMs: 200,
  notFoundRetryDelayMs: 200,
});

/** Processes of a Temporal server using this home directory's database. */
function serversOf(home: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'stat=,args='], { encoding: 'utf8' });
  return ps
    .split('\n')
    .filter((line) => !line.startsWith('Z') && line.includes('start-dev') && line.includes(home));
}

describe('interrupted commands, leftovers and what the terminal shows (the amplitude-sync command)', () => {
  let sim: Simulator;
  let dir: string;
  // Two whole UTC days, both past the availability lag whatever the hour the suite runs at.
  const dataStart = Math.floor((Date.now() - 4 * HOUR_MS) / DAY) * DAY - 2 * DAY;

  before(async () => {
    [sim, dir] = await Promise.all([
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 30 }),
      temporaryDirectory('cli-interrupt-'),
    ]);
  });
  after(async () => {
    await sim?.close();
  });

  const configFile = (name: string, overrides: Record<string, unknown> = {}) =>
    writeConnectionFile(dir, name, sim, dataStart, {
      api_key: DEFAULT_CREDENTIALS.standard.apiKey,
      secret_key: DEFAULT_CREDENTIALS.standard.secretKey,
      streams: ['events'],
      ...overrides,
    });

  const home = (name: string) => ({
    AMPLITUDE_SYNC_HOME: join(dir, `${name}.home`),
    AMPLITUDE_SYNC_TUNING: TUNING,
  });

  /** A download that stalls after two hours: the sync is surely in the middle of its work. */
  function stallNextExport() {
    sim.faults.add({ endpoint: 'export', kind: 'stall', afterHours: 2 });
  }

  it('kill -9 in the middle of a sync: no server is left, and the next sync follows the run to exact output', async () => {
    const config = await configFile('killed.json');
    const env = home('killed');
    stallNextExport();
    const first = start(['sync', '--config', config], env, dir);
    await waitForStderr(first, /sync started: workflow/);
    while (sim.faults.pending().length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    first.kill('SIGKILL');
    await finished(first);
    for (let i = 0; i < 50 && serversOf(env.AMPLITUDE_SYNC_HOME).length > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.deepEqual(serversOf(env.AMPLITUDE_SYNC_HOME), [], 'the embedded server went with its command');

    const second = await run(['sync', '--config', config], env, dir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /already running .*its command was interrupted\): following it to the end/);
    const mark = /complete before (\S+)/.exec(second.stdout)?.[1];
    assert.ok(mark, second.stdout);
    const out = join(dir, 'killed.json.out');
    await assertEventsMatch(out, sim, dataStart, Date.parse(mark));
    const leftovers = (await readdir(out, { recursive: true })).filter((name) =>
      String(name).endsWith('.tmp'),
    );
    assert.deepEqual(leftovers, [], 'the partial files of the killed attempt were removed');
  });

  it('Ctrl-C cancels the sync cleanly (exit 130, no stack trace); the next sync continues from its progress', async () => {
    const config = await configFile('interrupted.json');
    const env = home('interrupted');
    stallNextExport();
    const first = start(['sync', '--config', config], env, dir);
    await waitForStderr(first, /sync started: workflow/);
    while (sim.faults.pending().length > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    first.kill('SIGINT');
    const stopped = await finished(first);
    assert.equal(stopped.code, 130, stopped.stderr);
    assert.match(stopped.stderr, /SIGINT: cancelling sync/);
    assert.match(stopped.stderr, /was cancelled; the hours it had committed stay in place/);
    assert.deepEqual(stackLines(stopped.stderr), []);

    const second = await run(['sync', '--config', config], env, dir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /sync started/, 'a new run: the cancelled one is over');
    const mark = /complete before (\S+)/.exec(second.stdout)![1]!;
    await assertEventsMatch(join(dir, 'interrupted.json.out'), sim, dataStart, Date.parse(mark));
  });

  it('a second command on the same home is refused, naming the process that holds it', async () => {
    const config = await configFile('locked.json');
    const env = home('locked');
    stallNextExport();
    const first = start(['sync', '--config', config], env, dir);
    try {
      await waitForStderr(first, /sync started: workflow/);
      const second = await run(['sync', '--config', config], env, dir);
      assert.equal(second.code, 1);
      assert.match(
        second.stderr,
        new RegExp(`another amplitude-sync command is using .*home \\(process ${first.pid}, \`sync --config`),
      );
      assert.deepEqual(stackLines(second.stderr), []);
    } finally {
      first.kill('SIGINT');
      await finished(first);
    }
  });

  it('what interrupted syncs of the connection left is removed by its next sync; other connections’ files stay', async () => {
    const id = 'leftovers-connection';
    const config = await configFile('leftovers.json');
    const out = join(dir, 'leftovers.json.out');
    const hourDir = join(out, 'events', `date=${new Date(dataStart).toISOString().slice(0, 10)}`);
    await mkdir(hourDir, { recursive: true });
    const mine = ownerTag(`${fileSafe(id)}/x`);
    const ours = join(hourDir, `.events_2000-01-01T00.jsonl.gz.${mine}-7-2-abcd1234.0.tmp`);
    const theirs = join(
      hourDir,
      `.events_2000-01-01T00.jsonl.gz.${ownerTag('someone-else/x')}-1-1-abcd.0.tmp`,
    );
    await writeFile(ours, 'x'.repeat(1000));
    await writeFile(theirs, 'y');
    const parts = join(out, '_manifests', id, '2000-01-01T00-00-00Z_dead-run.parts');
    await mkdir(parts, { recursive: true });
    await writeFile(join(parts, 'events_x.json'), '{}');

    const result = await run(['sync', '--config', config, '--id', id], home('leftovers'), dir);
    assert.equal(result.code, 0, result.stderr);
    const names = (await readdir(out, { recursive: true })).map(String);
    assert.ok(
      !names.some((name) => name.includes(mine) && name.endsWith('.tmp')),
      'our temporary file is gone',
    );
    assert.ok(
      names.some((name) => name.endsWith('abcd.0.tmp')),
      'another connection’s file is left alone',
    );
    assert.ok(
      !names.some((name) => name.endsWith('.parts')),
      'receipts of a run that never finished are gone',
    );
    const manifests = (await readdir(join(out, '_manifests', id))).filter((name) => name.endsWith('.json'));
    const manifest = JSON.parse(await readFile(join(out, '_manifests', id, manifests[0]!), 'utf8'));
    assert.deepEqual(manifest.leftoversRemoved, { files: 1, bytes: 1000, receiptDirs: 1 });
  });

  it('errors that cannot fix themselves fail at once with one line naming the fix; retries are one line each', async () => {
    const notADirectory = join(dir, 'a-file');
    await writeFile(notADirectory, 'x');
    const blocked = await run(
      [
        'sync',
        '--config',
        await configFile('enotdir.json', { destination: { path: join(notADirectory, 'out') } }),
      ],
      home('enotdir'),
      dir,
    );
    assert.equal(blocked.code, 1);
    assert.match(
      blocked.stderr,
      /cannot write the destination \(ENOTDIR.*a-file.*a part of this path is a file, not a directory/,
    );
    assert.match(blocked.stderr, /Nothing was synced; the state stays where it was/);
    assert.deepEqual(stackLines(blocked.stderr), []);

    const unreachable = await run(
      ['sync', '--config', await configFile('unreachable.json', { base_url: 'http://127.0.0.1:9' })],
      home('unreachable'),
      dir,
    );
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      /Amplitude is out of reach: cannot reach http:\/\/127\.0\.0\.1:9: connection refused/,
    );
    assert.deepEqual(stackLines(unreachable.stderr), []);

    const wrongKey = await run(
      ['sync', '--config', await configFile('wrong-key.json', { secret_key: 'nope' })],
      home('wrong-key'),
      dir,
    );
    assert.equal(wrongKey.code, 1);
    assert.match(wrongKey.stderr, /invalid API key or wrong data region/);
    assert.deepEqual(stackLines(wrongKey.stderr), []);
    assert.ok(wrongKey.stderr.split('\n').length < 12, `a few lines, not hundreds:\n${wrongKey.stderr}`);

    sim.faults.add({ endpoint: 'export', kind: 'server_error', status: 503, times: 2 });
    // Retries two seconds apart, long enough to be seen waiting.
    const retried = await run(
      ['sync', '--config', await configFile('retried.json')],
      { ...home('retried'), AMPLITUDE_SYNC_TUNING: JSON.stringify({ retryInitialIntervalMs: 2000 }) },
      dir,
    );
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stderr, /events: export .*HTTP 503.*; next try in \d+ s, attempt 2 of \d+/);
    assert.deepEqual(stackLines(retried.stderr), []);
  });

  it('small ones: a future start_date says nothing is due, a number as api_key, --help, an unknown command', async () => {
    const future = await run(
      ['sync', '--config', await configFile('future.json', { start_date: '2099-01-01T00:00:00Z' })],
      home('future'),
      dir,
    );
    assert.equal(future.code, 0, future.stderr);
    assert.match(
      future.stderr,
      /start_date 2099-01-01T00:00:00Z is in the future: no event or dashboard day is due/,
    );
    assert.match(future.stdout, /nothing is due yet: start_date .* is in the future/);

    const number = await run(
      ['sync', '--config', await configFile('number.json', { api_key: 12345 })],
      {},
      dir,
    );
    assert.equal(number.code, 2);
    assert.match(number.stderr, /api_key: api_key must be a string/);

    const help = await run(['sync', '--help'], {}, dir);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /amplitude-sync sync --config FILE/);

    const unknown = await run(['frobnicate'], {}, dir);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  it('verify reports a day with missing events and is silent on complete ones', async () => {
    const config = await configFile('verified.json');
    const env = home('verified');
    const synced = await run(['sync', '--config', config], env, dir);
    assert.equal(synced.code, 0, synced.stderr);
    const complete = await run(['verify', '--config', config, '--days', '2'], env, dir);
    assert.equal(complete.code, 0, complete.stdout + complete.stderr);
    assert.match(
      complete.stdout,
      /compared \S+\.\.\S+ \(2 project-local days\).*2 within tolerance, 0 differ/,
    );

    // Remove one day's files: those events are missing now.
    const day = new Date(dataStart + DAY).toISOString().slice(0, 10);
    const dayDir = join(dir, 'verified.json.out', 'events', `date=${day}`);
    await rm(dayDir, { recursive: true });
    const missing = await run(['verify', '--config', config, '--days', '2'], env, dir);
    assert.equal(missing.code, 1, missing.stdout + missing.stderr);
    assert.match(missing.stdout, new RegExp(`${day}: Amplitude counts [\\d,]+, exported 0`));
    assert.match(missing.stdout, /hours most likely affected/);
    assert.match(missing.stdout, /go back on the re-check list/);
  });
});
