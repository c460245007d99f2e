import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RecordFramer, recordLine } from '../src/airbyte/messages.ts';

const EMITTED_AT = 1_733_000_000_123;
const LINES = [
  '{"event_type":"a","n":1}',
  '{"event_type":"b","text":"caf\u00e9 \u2603 \ud83d\ude00"}',
  '{"event_type":"c","nested":{"x":[1,2,3]}}',
];

/** What the string path writes for the same NDJSON: one RECORD line per non-empty line. */
function expected(ndjson: string): string {
  return ndjson
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => recordLine('events', line, EMITTED_AT))
    .join('');
}

/** The framer's output, as text only if it is exactly the UTF-8 of that text. */
function framed(chunks: Buffer[]): { text: string; records: number } {
  const framer = new RecordFramer('events', EMITTED_AT);
  const out = chunks.map((chunk) => framer.push(chunk));
  out.push(framer.end());
  const bytes = Buffer.concat(out);
  const text = bytes.toString();
  assert.ok(Buffer.from(text).equals(bytes), 'the output is UTF-8');
  return { text, records: framer.records };
}

describe('RecordFramer', () => {
  for (const [name, ndjson] of [
    ['newline-ended lines', `${LINES.join('\n')}\n`],
    ['a last line without its newline', LINES.join('\n')],
    ['empty lines among them', `\n${LINES[0]}\n\n${LINES[1]}\n\n\n${LINES[2]}\n`],
  ] as const) {
    it(`frames ${name} exactly as the string path does, however the bytes are cut`, () => {
      const bytes = Buffer.from(ndjson);
      const want = expected(ndjson);
      assert.deepEqual(framed([bytes]), { text: want, records: 3 });
      for (let cut = 0; cut <= bytes.length; cut++) {
        const got = framed([bytes.subarray(0, cut), bytes.subarray(cut)]);
        assert.deepEqual(got, { text: want, records: 3 }, `cut at byte ${cut}`);
      }
      const oneByteEach = [...bytes].map((byte) => Buffer.from([byte]));
      assert.deepEqual(framed(oneByteEach), { text: want, records: 3 });
    });
  }

  it('turns bytes that are not UTF-8 into U+FFFD, as decoding the lines into strings did, however they are cut', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"event_type":"bad","v":"'),
      Buffer.from([0xff, 0xc3, 0x28, 0xe2, 0x82]),
      Buffer.from('"}\n{"event_type":"good"}\n{"event_type":"end","v":"'),
      Buffer.from([0xf0, 0x9f]),
      Buffer.from('"}'),
    ]);
    const want = expected(bytes.toString());
    assert.match(want, /\ufffd/);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const got = framed([bytes.subarray(0, cut), bytes.subarray(cut)]);
      assert.deepEqual(got, { text: want, records: 3 }, `cut at byte ${cut}`);
    }
  });

  it('takes a line spread over many chunks', () => {
    const line = `{"event_type":"long","v":"${'x'.repeat(300_000)}"}`;
    const bytes = Buffer.from(`${line}\n${LINES[0]}\n`);
    const chunks: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += 1000) chunks.push(bytes.subarray(at, at + 1000));
    assert.deepEqual(framed(chunks), { text: expected(bytes.toString()), records: 2 });
  });

  it('emits nothing for no lines', () => {
    assert.deepEqual(framed([]), { text: '', records: 0 });
    assert.deepEqual(framed([Buffer.from('\n\n')]), { text: '', records: 0 });
  });
});
