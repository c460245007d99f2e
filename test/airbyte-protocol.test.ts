// The Airbyte protocol on the command line, run as Airbyte runs a connector: a separate process per
// command, JSON messages on stdout, against the simulator over loopback and an embedded Temporal.
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { airbyteCatalog } from '../src/airbyte/catalog.ts';
import { airbyteSpec } from '../src/airbyte/spec.ts';
import { STREAM_NAMES, type StreamName } from '../src/amplitude/streams.ts';
import { HOUR_MS, isoDate, isoHour } from '../src/amplitude/time.ts';
import { DEFAULT_CREDENTIALS } from '../src/simulator/index.ts';
import { finished, run, start } from './helpers/cli.ts';
import { type Simulator, startSimulatorOnRealClock, temporaryDirectory } from './helpers/harness.ts';
import { expectedEventPartitions } from './helpers/output.ts';
import { startDevServer } from './helpers/temporal.ts';

const DAY = 24 * HOUR_MS;

interface StatusTrace {
  type: 'STREAM_STATUS';
  stream_status: { stream_descriptor: { name: StreamName }; status: string };
}

interface Message {
  type: string;
  record?: { stream: StreamName; data: Record<string, unknown>; emitted_at: number };
  state?: {
    type: string;
    stream: { stream_descriptor: { name: StreamName }; stream_state: Record<string, unknown> };
  };
  trace?: { type: string; error: { message: string; failure_type: string } };
  connectionStatus?: { status: string; message?: string };
  [key: string]: unknown;
}

/** Every stdout line is one protocol message; anything else fails the test. */
function messages(stdout: string): Message[] {
  return stdout
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      try {
        return JSON.parse(line) as Message;
      } catch {
        throw new assert.AssertionError({
          message: `not a protocol message on stdout: ${line.slice(0, 200)}`,
        });
      }
    });
}

const recordsOf = (output: Message[], stream: StreamName) =>
  output.filter((m) => m.type === 'RECORD' && m.record!.stream === stream).map((m) => m.record!.data);

const statesOf = (output: Message[], stream: StreamName) =>
  output
    .map((message, index) => ({ message, index }))
    .filter(
      ({ message }) => message.type === 'STATE' && message.state!.stream.stream_descriptor.name === stream,
    );

const cursorOf = (message: Message) =>
  (message.state!.stream.stream_state.amplitude_sync as { completeBefore: string }).completeBefore;

describe('the Airbyte protocol: spec, check, discover, read', () => {
  let sim: Simulator;
  let dir: string;
  const dataStart = Date.now() - 2 * DAY;
  const credentials = DEFAULT_CREDENTIALS.standard;
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ AMPLITUDE_SYNC_HOME: join(dir, 'home'), ...extra });

  /** An Airbyte source-amplitude config as Airbyte writes it, plus base_url to reach the simulator. */
  const airbyteConfig = (overrides: Record<string, unknown> = {}) => ({
    api_key: credentials.apiKey,
    secret_key: credentials.secretKey,
    start_date: new Date(dataStart).toISOString().replace(/\.\d+Z$/, 'Z'),
    data_region: 'Standard Server',
    request_time_range: 24,
    base_url: sim.urls.standard,
    ...overrides,
  });

  const file = async (name: string, content: unknown) => {
    const path = join(dir, name);
    await writeFile(path, JSON.stringify(content));
    return path;
  };

  const configuredCatalog = (modes: Partial<Record<StreamName, 'full_refresh' | 'incremental'>>) => ({
    streams: Object.entries(modes).map(([name, sync_mode]) => ({
      stream: airbyteCatalog().streams.find((stream) => stream.name === name) ?? { name },
      sync_mode,
      destination_sync_mode: sync_mode === 'incremental' ? 'append_dedup' : 'overwrite',
    })),
  });

  before(async () => {
    [sim, dir] = await Promise.all([
      startSimulatorOnRealClock({ dataStart, eventsPerHour: 30 }),
      temporaryDirectory('airbyte-protocol-'),
    ]);
  });
  after(async () => {
    await sim?.close();
  });

  it('spec prints the connector specification as one SPEC message', async () => {
    const result = await run(['spec'], env(), dir);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(messages(result.stdout), [{ type: 'SPEC', spec: airbyteSpec() }]);
  });

  it('discover takes an unchanged Airbyte config and lists the six streams; a bad config is a config_error', async () => {
    const unchanged = await file('airbyte-config.json', {
      api_key: 'key',
      secret_key: 'secret',
      start_date: '2024-01-01T00:00:00Z',
      data_region: 'EU Residency Server',
      request_time_range: 6,
      active_users_group_by_country: false,
    });
    const result = await run(['discover', '--config', unchanged], env(), dir);
    assert.equal(result.code, 0, result.stderr);
    const [catalog, ...rest] = messages(result.stdout);
    assert.deepEqual(rest, []);
    assert.equal(catalog!.type, 'CATALOG');
    assert.deepEqual(catalog!.catalog, airbyteCatalog());
    assert.deepEqual(
      airbyteCatalog().streams.map((stream) => stream.name),
      [...STREAM_NAMES],
    );

    const bad = await file('bad-config.json', { api_key: 'key', secret_key: 'secret', start_date: 'soon' });
    const refused = await run(['discover', '--config', bad], env(), dir);
    assert.equal(refused.code, 1);
    const [trace] = messages(refused.stdout);
    assert.equal(trace!.type, 'TRACE');
    assert.equal(trace!.trace!.error.failure_type, 'config_error');
    assert.match(trace!.trace!.error.message, /start_date is not a valid time/);
  });

  it('check answers CONNECTION_STATUS: SUCCEEDED, or FAILED naming a wrong key (exit 0 in the connector image)', async () => {
    const good = await run(['check', '--config', await file('check.json', airbyteConfig())], env(), dir);
    assert.equal(good.code, 0, good.stderr);
    assert.deepEqual(messages(good.stdout), [
      { type: 'CONNECTION_STATUS', connectionStatus: { status: 'SUCCEEDED' } },
    ]);

    const wrong = await file('wrong.json', airbyteConfig({ secret_key: 'nope' }));
    const failed = await run(['check', '--config', wrong], env(), dir);
    assert.equal(failed.code, 1);
    const [status] = messages(failed.stdout);
    assert.equal(status!.connectionStatus!.status, 'FAILED');
    assert.match(status!.connectionStatus!.message!, /invalid API key or wrong data region/);

    const inImage = await run(
      ['check', '--config', wrong],
      env({ AIRBYTE_ENTRYPOINT: 'amplitude-sync' }),
      dir,
    );
    assert.equal(inImage.code, 0, 'Airbyte reads the verdict from the message, not the exit code');
    assert.equal(messages(inImage.stdout)[0]!.connectionStatus!.status, 'FAILED');
  });

  it('read refuses a catalog, state or config it cannot use with a config_error TRACE, before syncing anything', async () => {
    const config = await file('read-refused.json', airbyteConfig());
    const good = await file('good-catalog.json', configuredCatalog({ events: 'incremental' }));
    const cases: Array<[string[], RegExp]> = [
      [
        ['--catalog', await file('unknown.json', configuredCatalog({ sessions: 'full_refresh' } as never))],
        /unknown stream "sessions"/,
      ],
      [
        [
          '--catalog',
          await file('annotations-incremental.json', configuredCatalog({ annotations: 'incremental' })),
        ],
        /annotations supports full_refresh only/,
      ],
      [['--catalog', await file('empty.json', { streams: [] })], /streams is empty/],
      [
        [
          '--catalog',
          good,
          '--state',
          await file('bad-state.json', [
            {
              type: 'STREAM',
              stream: {
                stream_descriptor: { name: 'events' },
                stream_state: { server_upload_time: 'yesterday' },
              },
            },
          ]),
        ],
        /--state .* is unusable: .*server_upload_time "yesterday" is not a time Airbyte writes/,
      ],
    ];
    const before = sim.requests.length;
    for (const [args, message] of cases) {
      const result = await run(['read', '--config', config, ...args], env(), dir);
      assert.equal(result.code, 1, result.stderr);
      const output = messages(result.stdout);
      assert.equal(output.length, 1, result.stdout);
      assert.equal(output[0]!.trace!.error.failure_type, 'config_error');
      assert.match(output[0]!.trace!.error.message, message);
    }
    const noKey = await file('no-key.json', airbyteConfig({ api_key: undefined }));
    const missing = await run(['read', '--config', noKey, '--catalog', good], env(), dir);
    assert.equal(missing.code, 1);
    assert.match(messages(missing.stdout)[0]!.trace!.error.message, /api_key is required/);
    assert.equal(sim.requests.length, before, 'nothing was asked of Amplitude');
  });

  it('read emits the ground truth with STATEs as it goes; each next read from the last STATE emits only the lookback', async () => {
    // One-hour windows, one at a time: the sync takes long enough for STATEs along the way.
    const config = await file(
      'read.json',
      airbyteConfig({ request_time_range: 1, export_windows_in_flight: 1 }),
    );
    const scratch = await temporaryDirectory('read-tmp-');
    const readEnv = env({ TMPDIR: scratch });
    const catalog = await file(
      'catalog.json',
      configuredCatalog({
        events: 'incremental',
        active_users: 'incremental',
        average_session_length: 'full_refresh',
        annotations: 'full_refresh',
        cohorts: 'full_refresh',
        events_list: 'full_refresh',
      }),
    );
    const first = await run(['read', '--config', config, '--catalog', catalog], readEnv, dir);
    assert.equal(first.code, 0, first.stderr);
    const output = messages(first.stdout);
    assert.deepEqual(
      [...new Set(output.map((m) => m.type))].sort(),
      ['LOG', 'RECORD', 'STATE', 'TRACE'],
      'records, states, logs and stream statuses only',
    );
    assert.deepEqual(await readdir(scratch), [], 'the scratch directories are gone');

    // Each stream: STARTED before its records, RUNNING with the first, COMPLETE after the last.
    for (const stream of STREAM_NAMES) {
      const statuses = output
        .map((message, index) => ({ message, index }))
        .filter(({ message }) => message.trace?.type === 'STREAM_STATUS')
        .filter(
          ({ message }) =>
            (message.trace as unknown as StatusTrace).stream_status.stream_descriptor.name === stream,
        );
      assert.deepEqual(
        statuses.map(({ message }) => (message.trace as unknown as StatusTrace).stream_status.status),
        ['STARTED', 'RUNNING', 'COMPLETE'],
        stream,
      );
      const records = output.flatMap((message, index) => (message.record?.stream === stream ? [index] : []));
      assert.ok(
        statuses[0]!.index < records[0]! && statuses[1]!.index < records[0]!,
        `${stream} started first`,
      );
      assert.ok(statuses[2]!.index > records.at(-1)!, `${stream} complete after its records`);
    }

    // Every record validates against its stream's schema from discover.
    const ajv = new Ajv({ strict: false, allErrors: true, validateSchema: false });
    addFormats.default(ajv);
    for (const stream of airbyteCatalog().streams) {
      const validate = ajv.compile(stream.json_schema);
      const records = recordsOf(output, stream.name);
      assert.ok(records.length > 0, `${stream.name} has records`);
      for (const record of records)
        assert.ok(validate(record), `${stream.name}: ${ajv.errorsText(validate.errors)}`);
    }

    // Events: exactly the ground truth up to the final state, each record once.
    const eventStates = statesOf(output, 'events');
    assert.ok(eventStates.length >= 2, `events has STATEs along the way (${eventStates.length})`);
    const watermark = Date.parse(cursorOf(eventStates.at(-1)!.message));
    const events = recordsOf(output, 'events');
    assert.equal(new Set(events.map((e) => e.uuid)).size, events.length, 'no event twice');
    const byHour = new Map<string, Record<string, unknown>[]>();
    for (const event of events) {
      const hour = isoHour(Date.parse(event.server_upload_time as string));
      byHour.set(hour, [...(byHour.get(hour) ?? []), event]);
    }
    const expected = expectedEventPartitions(sim, dataStart - (dataStart % HOUR_MS), watermark);
    for (const partition of expected) {
      const hour = partition.partition.slice(-22, -9);
      assert.deepEqual(byHour.get(hour), partition.records(), hour);
    }
    assert.equal(
      events.filter((e) => Date.parse(e.server_upload_time as string) < watermark).length,
      expected.reduce((sum, partition) => sum + partition.count, 0),
    );
    // A STATE never runs ahead of the records: nothing before its cursor comes after it.
    for (const { message, index } of eventStates) {
      const cursor = Date.parse(cursorOf(message));
      const late = output
        .slice(index + 1)
        .filter(
          (m) =>
            m.record?.stream === 'events' && Date.parse(m.record.data.server_upload_time as string) < cursor,
        );
      assert.deepEqual(late, [], `records before ${cursorOf(message)} after its STATE`);
      assert.equal(
        message.state!.stream.stream_state.server_upload_time,
        `${cursorOf(message).slice(0, 10)} ${cursorOf(message).slice(11, 19)}.000000`,
        "Airbyte's own cursor beside ours",
      );
    }

    // Dashboards and snapshots: the ground truth.
    const usersCursor = cursorOf(statesOf(output, 'active_users').at(-1)!.message);
    const firstDay = isoDate(dataStart);
    const lastDay = isoDate(Date.parse(usersCursor) - DAY);
    assert.deepEqual(recordsOf(output, 'active_users'), sim.groundTruth.activeUsers(firstDay, lastDay, true));
    assert.deepEqual(
      recordsOf(output, 'average_session_length'),
      sim.groundTruth.averageSessionLength(
        firstDay,
        recordsOf(output, 'average_session_length').at(-1)!.date as string,
      ),
    );
    assert.deepEqual(recordsOf(output, 'annotations'), sim.groundTruth.annotations());
    assert.deepEqual(recordsOf(output, 'cohorts'), sim.groundTruth.cohorts());
    assert.deepEqual(recordsOf(output, 'events_list'), sim.groundTruth.eventsList());
    for (const stream of ['average_session_length', 'annotations', 'cohorts', 'events_list'] as const) {
      assert.deepEqual(statesOf(output, stream), [], `${stream} is full refresh: no state`);
    }

    // The next reads, each given the last STATE per stream of the one before, as Airbyte passes it.
    const lastStatesOf = (messages: Message[]) =>
      (['events', 'active_users'] as const).map((stream) => statesOf(messages, stream).at(-1)!.message.state);
    let previous = output;
    for (const next of ['second', 'third']) {
      const state = await file(`state-before-${next}.json`, lastStatesOf(previous));
      const from = Date.parse(cursorOf(statesOf(previous, 'events').at(-1)!.message));
      const usersFrom = Date.parse(cursorOf(statesOf(previous, 'active_users').at(-1)!.message));
      const before = sim.requests.length;
      const result = await run(
        ['read', '--config', config, '--catalog', catalog, '--state', state],
        readEnv,
        dir,
      );
      assert.equal(result.code, 0, result.stderr);
      const again = messages(result.stdout);
      const exports = sim.requests.slice(before).filter((r) => r.path === '/api/2/export');
      assert.ok(exports.length > 0);
      for (const request of exports)
        assert.ok(request.exportHours!.start >= from - 6 * HOUR_MS, `${next} read: only the lookback`);
      const reread = recordsOf(again, 'events');
      const lookback = expectedEventPartitions(sim, from - 6 * HOUR_MS, from);
      assert.ok(reread.length > 0 && reread.length < events.length);
      assert.deepEqual(
        reread.filter((e) => Date.parse(e.server_upload_time as string) < from),
        lookback.flatMap((partition) => partition.records()),
        `${next} read: the lookback's events, once`,
      );
      for (const user of recordsOf(again, 'active_users'))
        assert.ok(Date.parse(user.date as string) >= usersFrom - 3 * DAY, 'the dashboard lookback only');
      const last = statesOf(again, 'events').at(-1)!.message;
      assert.ok(Date.parse(cursorOf(last)) >= from);
      assert.equal(
        (last.state!.stream.stream_state.amplitude_sync as { recheck?: unknown }).recheck,
        undefined,
        'no hour goes on the re-check list for having been read before',
      );
      previous = again;
    }
    assert.deepEqual(await readdir(scratch), []);
  });

  it('read takes the states Airbyte passes for streams without a cursor, and an empty state', async () => {
    const config = await file('read-markers.json', airbyteConfig());
    const catalog = await file('catalog-markers.json', configuredCatalog({ annotations: 'full_refresh' }));
    const states = [
      [],
      [
        {
          type: 'STREAM',
          stream: {
            stream_descriptor: { name: 'annotations' },
            stream_state: { __ab_no_cursor_state_message: true },
          },
        },
      ],
      [{ type: 'STREAM', stream: { stream_descriptor: { name: 'events' }, stream_state: null } }],
      { type: 'GLOBAL', global: { shared_state: {} } },
      { type: 'LEGACY', data: null },
    ];
    for (const [index, content] of states.entries()) {
      const state = await file(`markers-${index}.json`, content);
      const result = await run(
        ['read', '--config', config, '--catalog', catalog, '--state', state],
        env(),
        dir,
      );
      assert.equal(result.code, 0, `${JSON.stringify(content)}: ${result.stdout}${result.stderr}`);
      assert.deepEqual(recordsOf(messages(result.stdout), 'annotations'), sim.groundTruth.annotations());
    }
  });

  it('read whose reader goes away cancels its sync and removes its scratch directory', async () => {
    const config = await file(
      'read-epipe.json',
      airbyteConfig({ request_time_range: 1, export_windows_in_flight: 1 }),
    );
    const catalog = await file('catalog-epipe.json', configuredCatalog({ events: 'full_refresh' }));
    const scratch = await temporaryDirectory('read-epipe-tmp-');
    const child = start(['read', '--config', config, '--catalog', catalog], env({ TMPDIR: scratch }), dir);
    // The reader takes the first records, then closes the pipe.
    await new Promise<void>((resolve) => {
      const onData = () => {
        if (!child.output.stdout.includes('"type":"RECORD"')) return;
        child.stdout!.off('data', onData);
        child.stdout!.destroy();
        resolve();
      };
      child.stdout!.on('data', onData);
    });
    const result = await finished(child);
    assert.equal(result.code, 1, result.stderr);
    assert.match(
      result.stderr,
      /amplitude-sync read stopped: output closed: .*EPIPE.*its sync was cancelled/,
    );
    assert.deepEqual(await readdir(scratch), [], 'the scratch directories are gone');
  });

  it("read takes a state written by Airbyte's source-amplitude: events start at its cursor's hour, less the lookback", async () => {
    const hour = Math.floor((Date.now() - DAY) / HOUR_MS) * HOUR_MS;
    const cursor = new Date(hour + 59 * 60_000 + 10_965).toISOString().replace('T', ' ').replace('Z', '000');
    const state = await file('airbyte-written-state.json', [
      {
        type: 'STREAM',
        stream: { stream_descriptor: { name: 'events' }, stream_state: { server_upload_time: cursor } },
      },
      {
        type: 'STREAM',
        stream: { stream_descriptor: { name: 'active_users' }, stream_state: { date: isoDate(hour - DAY) } },
      },
    ]);
    const config = await file('from-airbyte.json', airbyteConfig({ request_time_range: 1 }));
    const catalog = await file(
      'catalog-2.json',
      configuredCatalog({ events: 'incremental', active_users: 'incremental' }),
    );
    const before = sim.requests.length;
    const result = await run(
      ['read', '--config', config, '--catalog', catalog, '--state', state],
      env(),
      dir,
    );
    assert.equal(result.code, 0, result.stderr);
    const asked = sim.requests.slice(before);
    const exports = asked.filter((r) => r.path === '/api/2/export');
    assert.equal(Math.min(...exports.map((r) => r.exportHours!.start)), hour - 6 * HOUR_MS);
    const users = recordsOf(messages(result.stdout), 'active_users');
    assert.ok(users.length > 0);
    for (const user of users)
      assert.ok(
        Date.parse(user.date as string) >= Date.parse(isoDate(hour - DAY)) - 3 * DAY,
        'from its day, less the lookback',
      );
  });

  it('read with TEMPORAL_ADDRESS runs the sync on that cluster, with its own worker, and leaves nothing running', async () => {
    const temporal = await startDevServer();
    try {
      const config = await file('read-cluster.json', airbyteConfig());
      const catalog = await file(
        'catalog-cluster.json',
        configuredCatalog({ annotations: 'full_refresh', active_users: 'incremental' }),
      );
      const result = await run(
        ['read', '--config', config, '--catalog', catalog],
        env({ TEMPORAL_ADDRESS: temporal.address }),
        dir,
      );
      assert.equal(result.code, 0, result.stderr);
      const output = messages(result.stdout);
      assert.deepEqual(recordsOf(output, 'annotations'), sim.groundTruth.annotations());
      assert.ok(statesOf(output, 'active_users').length > 0);
      const syncs: Array<{ id: string; status: string; taskQueue: string }> = [];
      for await (const info of temporal.client.workflow.list({ query: "WorkflowType = 'sync'" }))
        syncs.push({ id: info.workflowId, status: info.status.name, taskQueue: info.taskQueue });
      assert.equal(syncs.length, 1, JSON.stringify(syncs));
      assert.equal(syncs[0]!.status, 'COMPLETED');
      assert.match(syncs[0]!.taskQueue, /^amplitude-sync-read-/, 'a task queue of its own');
    } finally {
      await temporal.teardown();
    }
  });

  it('read with a wrong key ends with a config_error TRACE naming it', async () => {
    const config = await file('read-wrong.json', airbyteConfig({ secret_key: 'nope' }));
    const catalog = await file('catalog-3.json', configuredCatalog({ annotations: 'full_refresh' }));
    const result = await run(['read', '--config', config, '--catalog', catalog], env(), dir);
    assert.equal(result.code, 1);
    const trace = messages(result.stdout).find((m) => m.trace?.type === 'ERROR');
    assert.ok(trace, result.stdout);
    assert.equal(trace.trace!.error.failure_type, 'config_error');
    assert.match(trace.trace!.error.message, /invalid API key or wrong data region/);
  });
});
