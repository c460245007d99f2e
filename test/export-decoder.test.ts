import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { strToU8, zipSync } from 'fflate';
import { decodeExport, LineSplitter, lineStrings, memberHour } from '../src/amplitude/export-decoder.ts';
import { ZipFormatError, zipMembers } from '../src/amplitude/zip-stream.ts';
import { inPieces, sizedZip, streamedZip } from './helpers/zips.ts';

async function decodeAll(body: AsyncIterable<Uint8Array>) {
  const members: string[] = [];
  const lines: string[] = [];
  for await (const chunk of decodeExport(body)) {
    if (chunk.kind === 'member') members.push(chunk.name);
    else lines.push(...lineStrings(chunk.batch));
  }
  return { members, lines };
}

const gz = (text: string) => gzipSync(Buffer.from(text));
const event = (n: number, extra = '') => JSON.stringify({ uuid: `u-${n}`, n, note: extra });

describe('export decoding', () => {
  const tricky = [
    event(1, 'plain'),
    event(2, 'émoji 🎉 and 中文 split across chunks'),
    event(3, 'line\u2028separator\u2029inside'),
    event(4, 'x'.repeat(70_000)),
  ];
  const body = `${tricky.join('\n')}\n`;

  for (const [label, zip] of [
    ['sizes in headers', sizedZip({ '1/1_2024-03-01_9#0.json.gz': gz(body) })],
    ['data descriptors', streamedZip({ '1/1_2024-03-01_9#0.json.gz': gz(body) })],
    ['deflated members', streamedZip({ '1/1_2024-03-01_9#0.json.gz': gz(body) }, true)],
  ] as const) {
    for (const piece of [1, 7, 4096, 1 << 20]) {
      it(`reads every line exactly (${label}, ${piece}-byte chunks)`, async () => {
        const { members, lines } = await decodeAll(inPieces(zip, piece));
        assert.deepEqual(members, ['1/1_2024-03-01_9#0.json.gz']);
        assert.deepEqual(lines, tricky);
      });
    }
  }

  it('keeps members in archive order and several partitions of an hour apart', async () => {
    const zip = streamedZip({
      '1/1_2024-03-01_9#0.json.gz': gz(`${event(1)}\n`),
      '1/1_2024-03-01_9#1.json.gz': gz(`${event(2)}\n`),
      '1/1_2024-03-01_10#0.json.gz': gz(`${event(3)}\n`),
    });
    const { members, lines } = await decodeAll(inPieces(zip, 100));
    assert.deepEqual(members, [
      '1/1_2024-03-01_9#0.json.gz',
      '1/1_2024-03-01_9#1.json.gz',
      '1/1_2024-03-01_10#0.json.gz',
    ]);
    assert.deepEqual(lines, [event(1), event(2), event(3)]);
  });

  it('handles CRLF line ends, blank lines and a last line without a newline', async () => {
    const zip = sizedZip({
      'a/a_2024-03-01_0#0.json.gz': gz(`${event(1)}\r\n\r\n${event(2)}\r\n${event(3)}`),
    });
    assert.deepEqual((await decodeAll(inPieces(zip, 5))).lines, [event(1), event(2), event(3)]);
  });

  it('reads a member made of several concatenated gzip streams', async () => {
    const member = Buffer.concat([gz(`${event(1)}\n`), gz(`${event(2)}\n`)]);
    const { lines } = await decodeAll(inPieces(sizedZip({ 'a/a_2024-03-01_0#0.json.gz': member }), 64));
    assert.deepEqual(lines, [event(1), event(2)]);
  });

  it('ignores members that are not .json.gz', async () => {
    const zip = streamedZip({
      '1/': new Uint8Array(),
      '1/1_2024-03-01_9_complete': strToU8('done'),
      '1/1_2024-03-01_9#0.json.gz': gz(`${event(1)}\n`),
      'README.txt': strToU8('hello'),
    });
    const { members, lines } = await decodeAll(inPieces(zip, 3));
    assert.deepEqual(members, ['1/1_2024-03-01_9#0.json.gz']);
    assert.deepEqual(lines, [event(1)]);
  });

  it('does not mistake descriptor-like bytes inside a member for its end', async () => {
    // A stored member whose data contains a data-descriptor signature followed by a bogus size.
    const payload = Buffer.concat([
      gz(`${event(1)}\n`),
      Buffer.from('PK\x07\x08\x00\x00\x00\x00\x05\x00\x00\x00'),
    ]);
    const zip = streamedZip({ 'x.bin': payload, 'a/a_2024-03-01_0#0.json.gz': gz(`${event(2)}\n`) });
    const names: string[] = [];
    const sizes: number[] = [];
    for await (const member of zipMembers(inPieces(zip, 11))) {
      names.push(member.name);
      let size = 0;
      for await (const chunk of member.data) size += chunk.length;
      sizes.push(size);
    }
    assert.deepEqual(names, ['x.bin', 'a/a_2024-03-01_0#0.json.gz']);
    assert.equal(sizes[0], payload.length);
  });

  it('an archive cut short fails; it never ends quietly with part of the data', async () => {
    const zip = streamedZip({ 'a/a_2024-03-01_0#0.json.gz': gz(`${event(1)}\n${event(2)}\n`.repeat(2000)) });
    for (const cut of [10, 40, Math.floor(zip.length / 2), zip.length - 30]) {
      await assert.rejects(decodeAll(inPieces(zip.subarray(0, cut), 512)), ZipFormatError, `cut at ${cut}`);
    }
  });

  it('a deflated member cut short fails the same way, without crashing or hanging', async () => {
    const zip = streamedZip(
      { 'a/a_2024-03-01_0#0.json.gz': gz(`${event(1, 'x'.repeat(5000))}\n`.repeat(200)) },
      true,
    );
    await assert.rejects(decodeAll(inPieces(zip.subarray(0, zip.length / 2), 700)), ZipFormatError);
  });

  it('a corrupt member fails with the member named', async () => {
    const member = Buffer.from(gz(`${event(1)}\n`.repeat(500)));
    member[member.length - 6]! ^= 0xff; // breaks the gzip CRC
    const zip = sizedZip({ 'a/a_2024-03-01_0#0.json.gz': member });
    await assert.rejects(
      decodeAll(inPieces(zip, 256)),
      /member a\/a_2024-03-01_0#0\.json\.gz is corrupt or truncated/,
    );
  });

  it('a 200 whose body is not a ZIP fails and quotes what came instead', async () => {
    await assert.rejects(
      decodeAll(inPieces(Buffer.from('<html><body>Too many requests</body></html>'), 8)),
      /not a ZIP archive \(it starts with "<html><body>Too many requests/,
    );
    await assert.rejects(decodeAll(inPieces(Buffer.alloc(0), 8)), /empty/);
  });

  it('an empty archive has no lines', async () => {
    assert.deepEqual(await decodeAll(inPieces(zipSync({}), 8)), { members: [], lines: [] });
  });

  it('reads the upload hour from Amplitude member names', () => {
    assert.equal(memberHour('187520/187520_2024-03-02_0#0.json.gz'), Date.UTC(2024, 2, 2, 0));
    assert.equal(memberHour('187520/187520_2024-03-02_17#12.json.gz'), Date.UTC(2024, 2, 2, 17));
    assert.equal(memberHour('187520/other.json.gz'), undefined);
  });
});

describe('line splitting', () => {
  it('never splits a multi-byte character and decodes each line once complete', () => {
    const text = Buffer.from('añ🎉\nb\u2028c\n');
    const splitter = new LineSplitter();
    const lines: string[] = [];
    for (const byte of text)
      for (const batch of splitter.push(Buffer.from([byte]))) lines.push(...lineStrings(batch));
    for (const batch of splitter.end()) lines.push(...lineStrings(batch));
    assert.deepEqual(lines, ['añ🎉', 'b\u2028c']);
  });
});
