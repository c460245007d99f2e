// The postgres destination: one table per stream in a schema, created on first use. A slice (an
// upload hour of events, a dashboard month, a snapshot) is replaced in one transaction (delete its
// rows, COPY the new ones), so a retried or re-read slice never duplicates and a reader never sees half
// of one. Manifests, receipts and the state are kept in tables too (_syncs, _receipts). The password
// comes from the worker (a file or PGPASSWORD), never from Temporal.
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import type { PendingQuery, Row, Sql, TransactionSql } from 'postgres';
import { isoHour } from '../amplitude/time.ts';
import {
  type Destination,
  DestinationError,
  type LeftoversRemoved,
  type PartitionWritten,
  type Receipt,
  type SyncManifest,
} from './destination.ts';
import { HourPartitionWriter, type StagedHour } from './hour-partitions.ts';
import { connectionOf, parsePartition } from './layout.ts';
import { ownerTag } from './partition-files.ts';
import { copyRow, EVENT_COLUMNS, eventRow } from './postgres-rows.ts';
import type { PostgresSpec } from './spec.ts';
import { stagedName } from './staging.ts';

/** Every table and the columns amplitude-sync writes; a table missing one was altered by hand. */
const TABLES: Record<string, { columns: Record<string, string>; after?: string[] }> = {
  events: {
    columns: {
      uuid: 'uuid',
      event_time: 'timestamptz',
      server_upload_time: 'timestamptz',
      event_type: 'text',
      user_id: 'text',
      device_id: 'text',
      amplitude_id: 'bigint',
      session_id: 'bigint',
      country: 'text',
      platform: 'text',
      app: 'bigint',
      upload_hour: 'timestamptz not null',
      record: 'jsonb not null',
    },
    after: ['create index if not exists events_upload_hour on %s (upload_hour)'],
  },
  active_users: {
    columns: { date: 'date not null', country: 'text', users: 'bigint not null' },
    after: ['create index if not exists active_users_date on %s (date)'],
  },
  average_session_length: { columns: { date: 'date primary key', length: 'double precision not null' } },
  annotations: {
    columns: { id: 'bigint', date: 'date', label: 'text', details: 'text', record: 'jsonb not null' },
  },
  cohorts: {
    columns: { id: 'text', name: 'text', size: 'bigint', archived: 'boolean', record: 'jsonb not null' },
  },
  events_list: { columns: { id: 'bigint', name: 'text', totals: 'bigint', record: 'jsonb not null' } },
  _syncs: {
    columns: {
      run_key: 'text primary key',
      connection: 'text not null',
      workflow_id: 'text not null',
      run_id: 'text not null',
      started_at: 'timestamptz not null',
      finished_at: 'timestamptz not null',
      state: 'jsonb not null',
      manifest: 'jsonb not null',
    },
  },
  _receipts: {
    columns: { run_key: 'text not null', name: 'text not null', receipt: 'jsonb not null' },
    after: ['create unique index if not exists _receipts_run_name on %s (run_key, name)'],
  },
};

const PROBLEMS: Record<string, string> = {
  '28P01':
    'the password was refused: put the right one in PGPASSWORD (or destination.password_file) on the worker',
  '28000': 'the server does not let this user in (pg_hba.conf): allow it, or fix destination.user',
  '3D000': 'the database does not exist: create it, or fix destination.database',
  '42501':
    'the user lacks the rights it needs: GRANT CREATE ON DATABASE (or on the schema) to it, or use another user or schema',
  ECONNREFUSED: 'the server refuses connections there: fix destination.host/port, or start PostgreSQL',
  '42703':
    'a table lacks a column amplitude-sync writes (altered by hand?): add it back, or drop the table so that amplitude-sync creates it again',
  '42P01': 'a table amplitude-sync writes is gone: run the sync again to create it, or restore it',
  ENOTFOUND: 'no such host: fix destination.host',
};

/** What PostgreSQL said, as a DestinationError naming the fix, when it comes from configuration or rights. */
function configurationProblem(error: unknown, location: string): DestinationError | undefined {
  const code = (error as { code?: string }).code ?? '';
  const fix = PROBLEMS[code];
  if (!fix) return undefined;
  return new DestinationError(`${location}: ${(error as Error).message} (${code}): ${fix}`);
}

const quoteIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;

export class PostgresDestination implements Destination {
  readonly location: string;
  readonly #owner: string;
  #ready: Promise<void> | undefined;

  constructor(
    private readonly sql: Sql,
    private readonly spec: PostgresSpec,
    location: string,
    runKey: string,
    private readonly staging: string,
  ) {
    this.location = location;
    this.#owner = ownerTag(runKey);
  }

  #table(name: string): string {
    return `${quoteIdentifier(this.spec.schema)}.${quoteIdentifier(name)}`;
  }

  /** Runs database work; configuration problems become a DestinationError naming the fix. */
  async #call<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw configurationProblem(error, this.location) ?? error;
    }
  }

  /** Creates the schema and tables on first use, and finds tables altered by hand. */
  #prepare(): Promise<void> {
    this.#ready ??= this.#call(async () => {
      await this.sql.unsafe(`create schema if not exists ${quoteIdentifier(this.spec.schema)}`);
      for (const [name, { columns, after }] of Object.entries(TABLES)) {
        const list = Object.entries(columns).map(([column, type]) => `${quoteIdentifier(column)} ${type}`);
        await this.sql.unsafe(`create table if not exists ${this.#table(name)} (${list.join(', ')})`);
        const present = await this.sql<{ column_name: string }[]>`
          select column_name from information_schema.columns
          where table_schema = ${this.spec.schema} and table_name = ${name}`;
        const have = new Set(present.map((row) => row.column_name));
        const missing = Object.keys(columns).filter((column) => !have.has(column));
        if (missing.length > 0) {
          throw new DestinationError(
            `${this.location}: table ${this.spec.schema}.${name} has no column ${missing.join(', ')} (altered by hand?): add it back as ${missing.map((column) => `${column} ${columns[column]!.replace(/ (primary key|not null)/g, '')}`).join(', ')}, or drop the table so that amplitude-sync creates it again`,
          );
        }
        for (const statement of after ?? [])
          await this.sql.unsafe(statement.replace('%s', this.#table(name)));
      }
    }).catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  async check(): Promise<void> {
    await this.#call(() => this.sql`select 1`);
    await this.#prepare();
  }

  hourWriter(tag: string): HourPartitionWriter {
    return new HourPartitionWriter({
      stagingPath: (partition, part) =>
        join(this.staging, stagedName(partition, `${this.#owner}-${tag}`, part)),
      compressed: false,
      publish: async (staged) => {
        try {
          await this.#loadHour(staged);
        } finally {
          await rm(staged.path, { force: true });
        }
      },
    });
  }

  /** Replaces an upload hour's events in one transaction: its rows deleted, the staged lines copied in. */
  async #loadHour(staged: StagedHour): Promise<void> {
    await this.#prepare();
    const hour = `${isoHour(staged.hour)}:00:00+00:00`;
    const table = this.#table('events');
    const columns = [...EVENT_COLUMNS, 'upload_hour', 'record'].map(quoteIdentifier).join(', ');
    await this.#call(() =>
      this.sql.begin(async (tx) => {
        await tx.unsafe(`delete from ${table} where upload_hour = $1`, [hour]);
        await copyInto(tx.unsafe(`copy ${table} (${columns}) from stdin`), [
          createReadStream(staged.path),
          new EventRows(hour),
        ]);
      }),
    );
  }

  async replacePartition(partition: string, records: readonly object[]): Promise<PartitionWritten> {
    await this.#prepare();
    const slice = parsePartition(partition);
    if (!slice || slice.stream === 'events')
      throw new Error(`not a dashboard or snapshot partition: ${partition}`);
    const rows = records.flatMap((record) => rowsOf(slice.stream, record as Record<string, unknown>));
    const table = this.#table(slice.stream);
    const columns = Object.keys(TABLES[slice.stream]!.columns).map(quoteIdentifier).join(', ');
    let bytes = 0;
    await this.#call(() =>
      this.sql.begin(async (tx) => {
        await deleteSlice(tx, table, slice);
        const lines = rows.map(copyRow);
        bytes = lines.reduce((sum, line) => sum + Buffer.byteLength(line), 0);
        await copyInto(tx.unsafe(`copy ${table} (${columns}) from stdin`), [Readable.from(lines)]);
      }),
    );
    return { partition, records: records.length, bytes };
  }

  async writeReceipt(runKey: string, receipt: Receipt): Promise<void> {
    await this.#prepare();
    const name = `${receipt.stream}_${receipt.slice}`;
    await this.#call(() =>
      this.sql.unsafe(
        `insert into ${this.#table('_receipts')} (run_key, name, receipt) values ($1, $2, $3)
         on conflict (run_key, name) do update set receipt = excluded.receipt`,
        [runKey, name, this.sql.json(receipt as never)],
      ),
    );
  }

  async readReceipts(runKey: string): Promise<Receipt[]> {
    await this.#prepare();
    const rows = await this.#call(() =>
      this.sql.unsafe(`select receipt from ${this.#table('_receipts')} where run_key = $1 order by name`, [
        runKey,
      ]),
    );
    return rows.map((row) => row.receipt as Receipt);
  }

  async writeManifest(runKey: string, manifest: SyncManifest): Promise<string> {
    await this.#prepare();
    await this.#call(() =>
      this.sql.begin(async (tx) => {
        await tx.unsafe(
          `insert into ${this.#table('_syncs')} (run_key, connection, workflow_id, run_id, started_at, finished_at, state, manifest)
           values ($1, $2, $3, $4, $5, $6, $7, $8)
           on conflict (run_key) do update set finished_at = excluded.finished_at, state = excluded.state, manifest = excluded.manifest`,
          [
            runKey,
            connectionOf(runKey),
            manifest.sync.workflowId,
            manifest.sync.runId,
            manifest.sync.startedAt,
            manifest.sync.finishedAt,
            this.sql.json(manifest.state as never),
            this.sql.json(manifest as never),
          ],
        );
        await tx.unsafe(`delete from ${this.#table('_receipts')} where run_key = $1`, [runKey]);
      }),
    );
    return `${this.location} ${this.spec.schema}._syncs run_key ${runKey}`;
  }

  async latestState(connection: string): Promise<unknown> {
    await this.#prepare();
    const rows = await this.#call(() =>
      this.sql.unsafe(
        `select state from ${this.#table('_syncs')} where connection = $1 order by started_at desc, finished_at desc limit 1`,
        [connection],
      ),
    );
    return rows[0]?.state;
  }

  async eventCounts(_runKey: string, from: number, to: number): Promise<Map<number, number>> {
    await this.#prepare();
    const rows = await this.#call(() =>
      this.sql.unsafe(
        `select extract(epoch from upload_hour) * 1000 as hour, count(*) as records
         from ${this.#table('events')} where upload_hour >= $1 and upload_hour < $2 group by upload_hour`,
        [new Date(from).toISOString(), new Date(to).toISOString()],
      ),
    );
    return new Map(rows.map((row) => [Number(row.hour), Number(row.records)]));
  }

  /** Receipts of the connection's syncs that never wrote a manifest. A transaction never leaves half a slice. */
  async removeLeftovers(keepRunKey: string): Promise<LeftoversRemoved> {
    await this.#prepare();
    const connection = connectionOf(keepRunKey);
    const rows = await this.#call(() =>
      this.sql.unsafe(
        `delete from ${this.#table('_receipts')} where run_key like $1 and run_key <> $2 returning run_key`,
        [
          `${connection.replaceAll('\\', '\\\\').replaceAll('%', '\\%').replaceAll('_', '\\_')}/%`,
          keepRunKey,
        ],
      ),
    );
    return { files: 0, bytes: 0, receiptDirs: new Set(rows.map((row) => row.run_key)).size };
  }
}

/**
 * Streams `stages` into a `copy ... from stdin` query. The query's writable alone never settles when
 * the server refuses a row after the last byte was sent (the error goes to the query, whose promise
 * already resolved with the stream), so the query's own failure is raced against the pipeline.
 */
async function copyInto(query: PendingQuery<Row[]>, stages: NodeJS.ReadableStream[]): Promise<void> {
  const internal = query as unknown as { reject(error: unknown): void };
  const original = internal.reject.bind(query);
  const refused = new Promise<never>((_, reject) => {
    internal.reject = (error: unknown) => {
      reject(error);
      original(error);
    };
  });
  refused.catch(() => {});
  const copy = await query.writable();
  const run = pipeline as unknown as (...streams: unknown[]) => Promise<void>;
  await Promise.race([run(...stages, copy), refused]);
}

/** Gunzipped NDJSON in, COPY rows of the events table out (lines may span chunks). */
class EventRows extends Transform {
  #rest = '';
  readonly #decoder = new StringDecoder('utf8');

  constructor(private readonly hour: string) {
    super({ readableHighWaterMark: 1 << 20 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const text = this.#rest + this.#decoder.write(chunk);
    const end = text.lastIndexOf('\n');
    this.#rest = text.slice(end + 1);
    if (end === -1) {
      done();
      return;
    }
    let out = '';
    for (const line of text.slice(0, end).split('\n')) if (line) out += eventRow(line, this.hour);
    done(null, out);
  }

  override _flush(done: TransformCallback): void {
    const rest = this.#rest + this.#decoder.end();
    done(null, rest ? eventRow(rest, this.hour) : undefined);
  }
}

function rowsOf(stream: string, record: Record<string, unknown>): unknown[][] {
  switch (stream) {
    case 'active_users': {
      const statistics = (record.statistics ?? {}) as Record<string, number>;
      // The ungrouped series is labelled 0: its row has no country.
      return Object.entries(statistics).map(([label, users]) => [
        record.date,
        label === '0' ? null : label,
        users,
      ]);
    }
    case 'average_session_length':
      return [[record.date, record.length]];
    case 'annotations':
      return [[record.id, record.date, record.label, record.details, JSON.stringify(record)]];
    case 'cohorts':
      return [[record.id, record.name, record.size, record.archived, JSON.stringify(record)]];
    case 'events_list':
      return [[record.id, record.name, record.totals, JSON.stringify(record)]];
    default:
      throw new Error(`no table for stream ${stream}`);
  }
}

async function deleteSlice(
  tx: TransactionSql,
  table: string,
  slice: NonNullable<ReturnType<typeof parsePartition>>,
) {
  if (slice.month) {
    await tx.unsafe(
      `delete from ${table} where date >= $1::date and date < ($1::date + interval '1 month')`,
      [`${slice.month}-01`],
    );
  } else {
    await tx.unsafe(`delete from ${table}`);
  }
}
