import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { zipSync } from 'fflate';
import { EventRecordError, normaliseEventLine } from '../src/amplitude/event-record.ts';
import { decodeExportOffThread } from '../src/amplitude/normaliser-thread.ts';
import { ZipFormatError } from '../src/amplitude/zip-stream.ts';
import { inPieces, streamedZip } from './helpers/zips.ts';

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
});
