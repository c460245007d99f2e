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

function framed(chunks: Buffer[]): { text: string; records: number } {
  const framer = new RecordFramer('events', EMITTED_AT);
  const out = chunks.map((chunk) => framer.push(chunk));
  out.push(framer.end());
  return { text: Buffer.concat(out).toString(), records: framer.records };
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

  it('emits nothing for no lines', () => {
    assert.deepEqual(framed([]), { text: '', records: 0 });
    assert.deepEqual(framed([Buffer.from('\n\n')]), { text: '', records: 0 });
  });
});
