// The throwaway PostgreSQL cluster of test/helpers/postgres-server.ts, and what the postgres
// destination needs from the `postgres` npm package (porsager/postgres): password authentication,
// permission errors, COPY ... FROM STDIN streaming inside a transaction, and the text-format COPY
// escaping of jsonb values.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { type PostgresServer, startPostgres } from './helpers/postgres-server.ts';

type Sql = postgres.Sql | postgres.TransactionSql;

/** A value as a field of text-format COPY: \N for null; backslash, newline, carriage return and tab escaped. */
function copyField(value: string | null): string {
  if (value === null) return '\\N';
  return value.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}

/** One row of text-format COPY (tab-separated, newline-terminated). */
function copyRow(fields: (string | null)[]): string {
  return `${fields.map(copyField).join('\t')}\n`;
}

/**
 * COPY ... FROM STDIN with rows from `source`. porsager/postgres 3.4.9 resolves
 * `.writable()` with a Writable whose end() completes only on the server's CommandComplete; when the
 * server rejects the data after the last chunk was written (a bad row near the end, a constraint), the
 * error goes to the query's reject() (the query promise has already resolved with the stream) and the
 * Writable never finishes nor errors: a bare `pipeline(source, writable)` hangs. So the query's reject()
 * is wrapped to fail the copy too.
 */
async function copyFrom(
  query: postgres.PendingQuery<postgres.Row[]>,
  source: Iterable<string | Buffer> | AsyncIterable<string | Buffer> | Readable,
): Promise<void> {
  const pending = query as unknown as { reject(error: unknown): void };
  const original = pending.reject;
  const rejected = new Promise<never>((_, reject) => {
    pending.reject = (error: unknown) => {
      reject(error);
      original(error);
    };
  });
  const writable = await query.writable();
  const readable = source instanceof Readable ? source : Readable.from(source, { objectMode: false });
  await Promise.race([pipeline(readable, writable), rejected]);
}

/** Rows in chunks of about 64 KiB (one string per row would cost a CopyData message and a write each). */
function* chunked(rows: Iterable<string>, size = 64 * 1024): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += row;
    if (chunk.length >= size) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

const ROWS = 100_000;

function event(i: number) {
  return {
    event_id: i,
    event_type: i % 7 === 0 ? 'session\tstart' : 'click',
    user_id: `user-${i % 977}`,
    event_time: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
    event_properties: {
      path: `/page/${i % 50}`,
      note: i % 11 === 0 ? 'line one\nline two \\ "quoted"' : 'plain',
    },
  };
}

function* eventRows(count = ROWS, offset = 0): Generator<string> {
  for (let i = 0; i < count; i++) yield copyRow([String(offset + i), JSON.stringify(event(offset + i))]);
}

async function count(sql: Sql, table: string): Promise<number> {
  const [row] = await sql`select count(*)::int as n from ${sql(table)}`;
  return row!.n as number;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe('a throwaway PostgreSQL cluster', () => {
  let server: PostgresServer;
  let sql: postgres.Sql;

  before(async () => {
    server = await startPostgres();
    console.log(`PostgreSQL test cluster ready in ${server.startupMs} ms at ${server.host}:${server.port}`);
    sql = postgres(server.url, { onnotice: () => {} });
  });

  after(async () => {
    await sql?.end({ timeout: 5 });
    await server?.stop();
  });

  it('answers select 1 with the superuser password', async () => {
    const rows = await sql`select 1 as one, current_user as who, current_database() as db`;
    assert.deepEqual([...rows], [{ one: 1, who: server.user, db: server.database }]);
  });

  it('listens on 127.0.0.1 only, with sockets in its own directory', async () => {
    const settings = await sql`
      select name, setting from pg_settings
      where name in ('listen_addresses', 'unix_socket_directories', 'port') order by name`;
    assert.deepEqual(Object.fromEntries(settings.map((row) => [row.name, row.setting])), {
      listen_addresses: '127.0.0.1',
      port: String(server.port),
      unix_socket_directories: server.socketDir,
    });
  });

  it('refuses a wrong password with an authentication error', async () => {
    const wrong = postgres({
      ...connection(server),
      password: 'not-the-password',
      max: 1,
      connect_timeout: 5,
    });
    try {
      await assert.rejects(wrong`select 1`, (error: postgres.PostgresError) => {
        assert.equal(error.code, '28P01'); // invalid_password
        assert.match(error.message, /password authentication failed for user "postgres"/);
        return true;
      });
    } finally {
      await wrong.end({ timeout: 1 });
    }
  });

  it('the limited role connects but cannot create a schema or a table', async () => {
    const limited = postgres(server.limitedUrl, { max: 1, onnotice: () => {} });
    try {
      const [row] = await limited`select current_user as who`;
      assert.equal(row!.who, server.limitedUser);
      await assert.rejects(limited`create schema amplitude`, (error: postgres.PostgresError) => {
        assert.equal(error.code, '42501'); // insufficient_privilege
        assert.match(error.message, /permission denied for database test/);
        return true;
      });
      await assert.rejects(limited`create table public.events (a int)`, (error: postgres.PostgresError) => {
        assert.equal(error.code, '42501');
        assert.match(error.message, /permission denied for schema public/);
        return true;
      });
    } finally {
      await limited.end({ timeout: 1 });
    }
  });

  describe('COPY ... FROM STDIN through porsager/postgres', () => {
    before(async () => {
      await sql`create table copied (a int primary key, b jsonb not null)`;
    });

    it(`streams ${ROWS.toLocaleString('en')} rows`, async () => {
      await sql`truncate copied`;
      const started = performance.now();
      await copyFrom(sql`copy copied (a, b) from stdin`, chunked(eventRows()));
      const ms = performance.now() - started;
      assert.equal(await count(sql, 'copied'), ROWS);
      const [row] = await sql`select b from copied where a = 77`;
      assert.deepEqual(row!.b, event(77));
      console.log(`COPY of ${ROWS} rows through the postgres package (from memory): ${ms.toFixed(0)} ms`);
    });

    it('a delete and a copy in one transaction: readers see the old rows until the commit', async () => {
      await sql`truncate copied`;
      await copyFrom(sql`copy copied (a, b) from stdin`, chunked(eventRows(1000)));
      let halfWritten!: () => void;
      const atHalf = new Promise<void>((resolve) => (halfWritten = resolve));
      let resume!: () => void;
      const resumed = new Promise<void>((resolve) => (resume = resolve));
      async function* replacement() {
        yield* chunked(eventRows(ROWS / 2, 1_000_000));
        halfWritten();
        await resumed;
        yield* chunked(eventRows(ROWS / 2, 1_000_000 + ROWS / 2));
      }
      const replacing = sql.begin(async (tx) => {
        await tx`delete from copied`;
        await copyFrom(tx`copy copied (a, b) from stdin`, replacement());
      });
      await atHalf;
      // Another connection, mid-copy: the old rows, all of them.
      assert.equal(await count(sql, 'copied'), 1000);
      const [range] = await sql`select min(a)::int as lo, max(a)::int as hi from copied`;
      assert.deepEqual({ ...range }, { lo: 0, hi: 999 });
      resume();
      await replacing;
      assert.equal(await count(sql, 'copied'), ROWS);
      const [after] = await sql`select min(a)::int as lo from copied`;
      assert.equal(after!.lo, 1_000_000);
    });

    for (const [where, at] of [
      ['in the middle of the stream', ROWS / 2],
      ['in the very last row, after the stream ended', ROWS - 1],
    ] as const) {
      it(`a bad row ${where} fails the copy and rolls the delete back`, async () => {
        await sql`truncate copied`;
        await copyFrom(sql`copy copied (a, b) from stdin`, chunked(eventRows(1000)));
        function* rows() {
          let i = 0;
          for (const row of eventRows(ROWS, 1_000_000)) {
            yield i++ === at ? copyRow([String(i), '{"not json']) : row;
          }
        }
        const attempt = sql.begin(async (tx) => {
          await tx`delete from copied`;
          await copyFrom(tx`copy copied (a, b) from stdin`, chunked(rows()));
        });
        await assert.rejects(
          withTimeout(attempt, 30_000, 'the failed copy'),
          (error: postgres.PostgresError) => {
            assert.equal(error.code, '22P02'); // invalid_text_representation
            assert.match(error.message, /invalid input syntax for type json/);
            return true;
          },
        );
        assert.equal(await count(sql, 'copied'), 1000);
        const [range] = await sql`select min(a)::int as lo, max(a)::int as hi from copied`;
        assert.deepEqual({ ...range }, { lo: 0, hi: 999 });
      });
    }

    it('a failing source (CopyFail) rolls the delete back', async () => {
      await sql`truncate copied`;
      await copyFrom(sql`copy copied (a, b) from stdin`, chunked(eventRows(1000)));
      async function* failing() {
        yield* chunked(eventRows(5000, 1_000_000));
        throw new Error('the export broke off');
      }
      const attempt = sql.begin(async (tx) => {
        await tx`delete from copied`;
        await copyFrom(tx`copy copied (a, b) from stdin`, failing());
      });
      await assert.rejects(withTimeout(attempt, 30_000, 'the failed copy'), /the export broke off/);
      assert.equal(await count(sql, 'copied'), 1000);
      // The connections are fine afterwards.
      await sql.begin(async (tx) => {
        await tx`delete from copied`;
        await copyFrom(tx`copy copied (a, b) from stdin`, chunked(eventRows(10)));
      });
      assert.equal(await count(sql, 'copied'), 10);
    });
  });

  describe('jsonb and text through text-format COPY', () => {
    const tricky: unknown[] = [
      { tab: 'a\tb', newline: 'line 1\nline 2', crlf: 'x\r\ny' },
      { backslash: 'C:\\path\\to\\file', 'key\twith\ttabs': 'v', 'key\\n': '\\n is not a newline' },
      { literalNull: '\\N', empty: '', nullValue: null, quote: '"\'' },
      { unicode: 'héllo wörld — ∑ 日本語 🎉👩‍👩‍👧 e\u0301', rtl: 'مرحبا', bmpEdge: '\uffff' },
      { control: '\u0001\u001f\u007f\b\f', escapedUnicode: '\u2028\u2029' },
      ['array', 1, 2.5, -0.000001, 1e21, true, false, null, { nested: ['\t', '\n', '\\'] }],
      'a bare string with \\ and \t',
      42,
      null,
      {},
    ];

    it('round-trips tricky values into jsonb and text columns', async () => {
      await sql`create table tricky (i int, doc jsonb, raw text)`;
      const texts = tricky.map((value) => (typeof value === 'string' ? value : JSON.stringify(value)));
      await copyFrom(
        sql`copy tricky (i, doc, raw) from stdin`,
        tricky.map((value, i) => copyRow([String(i), JSON.stringify(value), texts[i]!])),
      );
      const rows = await sql`select i, doc, raw from tricky order by i`;
      assert.equal(rows.length, tricky.length);
      for (const row of rows) {
        const i = row.i as number;
        assert.deepEqual(row.doc, tricky[i], `jsonb row ${i}`);
        assert.equal(row.raw, texts[i], `text row ${i}`);
      }
      // A SQL null differs from a JSON null: \N.
      await copyFrom(sql`copy tricky (i, doc, raw) from stdin`, [copyRow(['100', null, null])]);
      const [nulls] =
        await sql`select doc is null as doc_null, raw is null as raw_null from tricky where i = 100`;
      assert.deepEqual({ ...nulls }, { doc_null: true, raw_null: true });
    });

    it('the escaping is what makes it work: unescaped, backslashes change the data and tabs break rows', async () => {
      await sql`create table unescaped (doc jsonb)`;
      // JSON's "\\b" (an escaped backslash, then b) reaches the server as "\b": a backspace, silently.
      await copyFrom(sql`copy unescaped (doc) from stdin`, [`${JSON.stringify({ k: 'a\\b' })}\n`]);
      const [row] = await sql`select doc from unescaped`;
      assert.deepEqual(row!.doc, { k: 'a\u0008' }); // a backspace where a backslash and a b were
      await assert.rejects(
        copyFrom(sql`copy unescaped (doc) from stdin`, [`${JSON.stringify({ k: 'a\\z' })}\n`]),
        /invalid input syntax for type json/, // "\\z" became "\z", not a JSON escape
      );
      await assert.rejects(
        copyFrom(sql`copy unescaped (doc) from stdin`, [`{"k": "a\tb"}\n`]),
        /extra data after last expected column/,
      );
    });

    it('jsonb refuses \\u0000 and lone surrogates, which JSON.stringify produces', async () => {
      await sql`create table strict_json (doc jsonb)`;
      await assert.rejects(
        copyFrom(sql`copy strict_json (doc) from stdin`, [copyRow([JSON.stringify({ k: 'nul\u0000byte' })])]),
        (error: postgres.PostgresError) => {
          assert.equal(error.code, '22P05'); // untranslatable_character
          assert.match(error.message, /unsupported Unicode escape sequence/);
          return true;
        },
      );
      await assert.rejects(
        copyFrom(sql`copy strict_json (doc) from stdin`, [copyRow([JSON.stringify({ k: 'lone \ud800' })])]),
        /invalid input syntax for type json/,
      );
      // json (not jsonb) keeps them as text.
      await sql`create table lax_json (doc json)`;
      await copyFrom(sql`copy lax_json (doc) from stdin`, [
        copyRow([JSON.stringify({ k: 'nul\u0000byte' })]),
      ]);
      assert.equal(await count(sql, 'lax_json'), 1);
    });
  });

  it(`baseline: psql \\copy of ${ROWS.toLocaleString('en')} rows from a file vs the postgres package`, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pg-copy-'));
    try {
      const file = join(dir, 'rows.tsv');
      await writeFile(file, [...eventRows()].join(''));
      await sql`create table by_psql (a int primary key, b jsonb not null)`;
      await sql`create table by_package (a int primary key, b jsonb not null)`;
      const psql = join(server.binDir, 'psql');
      let started = performance.now();
      await promisify(execFile)(psql, [
        server.url,
        '--no-psqlrc',
        '-v',
        'ON_ERROR_STOP=1',
        '-c',
        `\\copy by_psql (a, b) from '${file}'`,
      ]);
      const psqlMs = performance.now() - started;
      started = performance.now();
      await copyFrom(
        sql`copy by_package (a, b) from stdin`,
        createReadStream(file, { highWaterMark: 64 * 1024 }),
      );
      const packageMs = performance.now() - started;
      assert.equal(await count(sql, 'by_psql'), ROWS);
      assert.equal(await count(sql, 'by_package'), ROWS);
      console.log(
        `${ROWS} rows: psql \\copy from a file ${psqlMs.toFixed(0)} ms (process start included); ` +
          `postgres package COPY from the same file ${packageMs.toFixed(0)} ms`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

function connection(server: PostgresServer) {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    database: server.database,
  };
}
