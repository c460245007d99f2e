import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { EventRecordError, normaliseEventLine } from '../src/amplitude/event-record.ts';
import { ZipFormatError } from '../src/amplitude/zip-stream.ts';
import { inPieces, streamedZip } from './helpers/zips.ts';

// A pool of two threads (the default on three cores or more), whatever this machine has: the order
// and cancellation across threads are what these tests are for.
process.env.AMPLITUDE_SYNC_NORMALISER_THREADS ??= '2';
const { AHEAD_BYTES, decodeExportOffThread, normaliserThreads } = await import(
  '../src/amplitude/normaliser-thread.ts'
);
const POOL = Number(process.env.AMPLITUDE_SYNC_NORMALISER_THREADS);

const hour = (h: number) => `2024-03-01 ${String(h).padStart(2, '0')}`;
const event = (n: number, h: number, note = '') =>
  JSON.stringify({
    event_properties: { event_time: `${hour(h)}:00:00.000000`, note },
    event_time: `${hour(h)}:01:02.000003`,
    server_upload_time: `${hour(h)}:30:00.123456`,
    user_creation_time: null,
    uuid: `u-${n}`,
  });

/** Members and, per upload hour, the normalised lines, as the off-thread decoder delivers them. */
async function decodeAll(body: AsyncIterable<Uint8Array>) {
  const members: string[] = [];
  const lines: Array<[number, string]> = [];
  for await (const chunk of decodeExportOffThread(body)) {
    if (chunk.kind === 'member') {
      members.push(chunk.name);
      continue;
    }
    for (const output of chunk.outputs) {
      const text = output.bytes.toString('utf8');
      output.written();
      for (const line of text.split('\n').slice(0, -1)) lines.push([output.hour, line]);
    }
  }
  return { members, lines };
}

describe('decoding and normalising on the worker thread', () => {
  const nine = Array.from({ length: 3000 }, (_, n) =>
    event(n, 9, n % 7 === 0 ? 'émoji 🎉 \u2028' : 'x'.repeat(n % 300)),
  );
  const ten = Array.from({ length: 1000 }, (_, n) => event(5000 + n, 10));
  const zip = streamedZip({
    '1/1_2024-03-01_9#0.json.gz': gzipSync(`${nine.join('\n')}\n`),
    '1/1_2024-03-01_9_complete': Buffer.from('x'),
    '1/1_2024-03-01_10#1.json.gz': gzipSync(ten.join('\r\n')),
  });
  const expected = [...nine, ...ten].map((line) => {
    const { line: normalised, uploadHour } = normaliseEventLine(line);
    return [uploadHour, normalised] as [number, string];
  });

  for (const piece of [13, 4096, 1 << 20]) {
    it(`delivers exactly what the in-thread normaliser produces, in order (${piece}-byte chunks)`, async () => {
      const { members, lines } = await decodeAll(inPieces(zip, piece));
      assert.deepEqual(members, ['1/1_2024-03-01_9#0.json.gz', '1/1_2024-03-01_10#1.json.gz']);
      assert.equal(lines.length, expected.length);
      assert.deepEqual(lines, expected);
    });
  }

  it('keeps concurrent exports apart', async () => {
    const [a, b] = await Promise.all([decodeAll(inPieces(zip, 999)), decodeAll(inPieces(zip, 5000))]);
    assert.deepEqual(a.lines, expected);
    assert.deepEqual(b.lines, expected);
  });

  it('a reader that gives up mid-member leaves the thread ready for the next export', async () => {
    for await (const chunk of decodeExportOffThread(inPieces(zip, 4096))) {
      if (chunk.kind === 'events' && chunk.outputs.length > 0) break;
    }
    assert.deepEqual((await decodeAll(inPieces(zip, 4096))).lines, expected);
  });

  it('reads no further ahead of a slow reader than its bound, within one large member', async () => {
    // Random notes do not compress: one member of about three times the bound, compressed.
    const notes = randomBytes(3 * AHEAD_BYTES).toString('base64');
    const lines = Array.from({ length: notes.length / 4096 }, (_, n) =>
      event(n, 9, notes.slice(n * 4096, (n + 1) * 4096)),
    );
    const body = streamedZip({
      '1/1_2024-03-01_9#0.json.gz': gzipSync(`${lines.join('\n')}\n`, { level: 1 }),
    });
    let pulled = 0;
    const counted = async function* () {
      for await (const piece of inPieces(body, 64 * 1024)) {
        pulled += piece.length;
        yield piece;
      }
    };
    const decoding = decodeExportOffThread(counted());
    await decoding.next(); // the member's start; no events taken
    // Until the reading stops (or would have read the whole body).
    for (let before = -1; pulled !== before && pulled < body.length; ) {
      before = pulled;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    assert.ok(pulled > 0, 'nothing read');
    assert.ok(
      pulled <= AHEAD_BYTES + 1024 * 1024,
      `read ${pulled} bytes ahead of a reader that took nothing`,
    );
    await decoding.return(undefined);
  });

  it('delivers a member of many messages exactly, as message buffers come back for reuse', async () => {
    const notes = randomBytes(6 * 1024 * 1024).toString('base64');
    const lines = Array.from({ length: notes.length / 2048 }, (_, n) =>
      event(n, 9 + (n % 2), notes.slice(n * 2048, (n + 1) * 2048)),
    );
    const body = streamedZip({
      '1/1_2024-03-01_9#0.json.gz': gzipSync(`${lines.join('\n')}\n`, { level: 1 }),
    });
    // Lines keep their order within each upload hour.
    const byHour = (pairs: Array<[number, string]>) => {
      const hours = new Map<number, Array<[number, string]>>();
      for (const pair of pairs) {
        if (!hours.has(pair[0])) hours.set(pair[0], []);
        hours.get(pair[0])!.push(pair);
      }
      return hours;
    };
    const decoded = byHour((await decodeAll(inPieces(body, 64 * 1024))).lines);
    const normalised = byHour(
      lines.map((line) => {
        const { line: text, uploadHour } = normaliseEventLine(line);
        return [uploadHour, text] as [number, string];
      }),
    );
    assert.deepEqual([...decoded.keys()].sort(), [...normalised.keys()].sort());
    for (const [hour, expected] of normalised) {
      assert.equal(decoded.get(hour)!.length, expected.length);
      assert.ok(
        decoded.get(hour)!.every(([, text], at) => text === expected[at]![1]),
        `hour ${hour} differs`,
      );
    }
  });

  it('a corrupt member fails with the member named', async () => {
    const member = Buffer.from(gzipSync(`${ten.join('\n')}\n`));
    member[member.length - 6]! ^= 0xff;
    const corrupt = zipSync({ 'a/a_2024-03-01_10#0.json.gz': member }, { level: 0 });
    await assert.rejects(decodeAll(inPieces(corrupt, 512)), (error: unknown) => {
      assert.ok(error instanceof ZipFormatError);
      assert.match(error.message, /member a\/a_2024-03-01_10#0\.json\.gz is corrupt or truncated/);
      return true;
    });
  });

  it('a line that is not an event fails as such', async () => {
    const bad = zipSync(
      { 'a/a_2024-03-01_10#0.json.gz': gzipSync(`${ten[0]}\n{"uuid":"no upload time"}\n`) },
      { level: 0 },
    );
    await assert.rejects(decodeAll(inPieces(bad, 64)), EventRecordError);
  });

  it('a truncated archive or a body that is not a zip fails', async () => {
    await assert.rejects(decodeAll(inPieces(zip.subarray(0, zip.length / 2), 700)), ZipFormatError);
    await assert.rejects(decodeAll(inPieces(Buffer.from('Rate limit exceeded'), 5)), /not a ZIP archive/);
  });

  describe('with members spread over the pool', () => {
    // Sizes that make later members finish first: a big member, then small ones, then big again.
    const sizes = [20000, 10, 300, 1, 5000, 50, 12000, 2, 700, 40, 3000, 9, 1500, 100, 8000, 5];
    const names = sizes.map((_, m) => `1/1_2024-03-01_${9 + (m % 3)}#${m}.json.gz`);
    const lines = sizes.map((size, m) =>
      Array.from({ length: size }, (_, n) => event(m * 100_000 + n, 9 + (m % 3))),
    );
    const many = (at: number, bad?: string) =>
      streamedZip(
        Object.fromEntries(
          names.map((name, m) => [name, gzipSync(`${lines[m]!.join('\n')}\n${m === at ? bad : ''}`)]),
        ),
      );
    const normalised = (members: string[][]) =>
      members.flat().map((line) => {
        const { line: out, uploadHour } = normaliseEventLine(line);
        return [uploadHour, out] as [number, string];
      });

    it('delivers every member in archive order, whichever thread finishes first', async () => {
      const { members, lines: got } = await decodeAll(inPieces(many(-1), 8192));
      assert.deepEqual(members, names);
      assert.deepEqual(got, normalised(lines));
      assert.equal(normaliserThreads().started, POOL);
      assert.equal(normaliserThreads().busy, 0);
    });

    it('a bad line in a later member fails only after the earlier members are delivered', async () => {
      const delivered: string[] = [];
      const failure = await (async () => {
        try {
          for await (const chunk of decodeExportOffThread(
            inPieces(many(4, '{"uuid":"no upload time"}\n'), 8192),
          )) {
            if (chunk.kind === 'member') delivered.push(chunk.name);
            else for (const output of chunk.outputs) output.written();
          }
        } catch (error) {
          return error;
        }
      })();
      assert.ok(failure instanceof EventRecordError, String(failure));
      assert.deepEqual(delivered, names.slice(0, 5));
      assert.equal(normaliserThreads().busy, 0);
    });

    it('a corrupt later member fails with its name, after the earlier ones', async () => {
      const zipped = Object.fromEntries(
        names.map((name, m) => [name, gzipSync(`${lines[m]!.join('\n')}\n`)]),
      );
      const corrupt = Buffer.from(zipped[names[3]!]!);
      corrupt[corrupt.length - 6]! ^= 0xff;
      zipped[names[3]!] = corrupt;
      const delivered: Array<[number, string]> = [];
      await assert.rejects(
        (async () => {
          for await (const chunk of decodeExportOffThread(inPieces(streamedZip(zipped), 4096))) {
            if (chunk.kind === 'events') {
              for (const output of chunk.outputs) {
                for (const line of output.bytes.toString('utf8').split('\n').slice(0, -1)) {
                  delivered.push([output.hour, line]);
                }
                output.written();
              }
            }
          }
        })(),
        (error: unknown) => {
          assert.ok(error instanceof ZipFormatError);
          assert.match(error.message, new RegExp(`member ${names[3]!.replace(/[#.]/g, '\\$&')} is corrupt`));
          return true;
        },
      );
      assert.deepEqual(
        delivered.slice(0, normalised(lines.slice(0, 3)).length),
        normalised(lines.slice(0, 3)),
      );
      assert.equal(normaliserThreads().busy, 0);
    });

    it('a reader that gives up mid-way leaves no thread busy, and the pool ready', async () => {
      let seen = 0;
      for await (const chunk of decodeExportOffThread(inPieces(many(-1), 8192))) {
        if (chunk.kind === 'events' && chunk.outputs.length > 0 && ++seen === 3) break;
      }
      assert.equal(normaliserThreads().busy, 0);
      await nextTurn();
      assert.equal(normaliserThreads().busy, 0);
      const [again, other] = await Promise.all([
        decodeAll(inPieces(many(-1), 65536)),
        decodeAll(inPieces(zip, 4096)),
      ]);
      assert.deepEqual(again.lines, normalised(lines));
      assert.deepEqual(other.lines, expected);
      assert.equal(normaliserThreads().busy, 0);
    });
  });
});
