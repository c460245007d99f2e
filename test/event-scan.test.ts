import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { EventScanner } from '../src/amplitude/event-scan.ts';

const KEYS = ['a', 'event_time', 'server_upload_time'];
const scanner = new EventScanner(KEYS);
const SCAN_FOUND = true;
const SCAN_UNSURE = false;

function scan(text: string | Buffer) {
  const buffer = Buffer.isBuffer(text) ? text : Buffer.from(text);
  scanner.load(buffer, 0, buffer.length, 0);
  const result = scanner.scanObject(0, buffer.length);
  const values = KEYS.map((_, k) =>
    scanner.starts[k] === -1
      ? undefined
      : scanner.bytes.toString('latin1', scanner.starts[k], scanner.ends[k]),
  );
  return { result, values };
}

/** What JSON.parse makes of the text read as Latin-1, as the scan promises to match. */
function parsed(text: string | Buffer): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse((Buffer.isBuffer(text) ? text : Buffer.from(text)).toString('latin1'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A small deterministic generator (mulberry32). */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomValue(next: () => number, depth: number): unknown {
  const pick = Math.floor(next() * (depth > 3 ? 5 : 7));
  if (pick === 0) return null;
  if (pick === 1) return next() < 0.5;
  if (pick === 2) return [0, -1, 1.5, -0.25e-7, 1e20, 3e21][Math.floor(next() * 6)];
  if (pick === 3 || pick === 4) {
    return ['', '2024-03-01 10:00:00.5', 'é \u2028 🎉', 'q"\\/\b\f\n\r\t', '\u0001', 'x'][
      Math.floor(next() * 6)
    ];
  }
  if (pick === 5) return Array.from({ length: Math.floor(next() * 3) }, () => randomValue(next, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 4); i > 0; i--) {
    object[KEYS[Math.floor(next() * KEYS.length)]! + (next() < 0.5 ? '' : 'x')] = randomValue(
      next,
      depth + 1,
    );
  }
  return object;
}

describe('validating JSON scan (event-scan.wasm)', () => {
  it('finds top-level string values and only those', () => {
    const { result, values } = scan(
      '{"a":"x","b":{"event_time":"nested"},"event_time":"2024-03-01 10:00:00","server_upload_time":null}',
    );
    assert.equal(result, SCAN_FOUND);
    assert.deepEqual(values, ['x', '2024-03-01 10:00:00', undefined]);
    // Values come as bytes (read as Latin-1 here): a multi-byte character is two bytes.
    assert.deepEqual(scan(' { "a" : "é" , "c" : [ 1 , { } , [ ] ] } ').values, ['Ã©', undefined, undefined]);
    assert.equal(scan('{}').result, SCAN_FOUND);
  });

  it('leaves to JSON.parse what it cannot vouch for', () => {
    for (const text of [
      '{"a":"x","a":"y"}', // a repeated chosen key
      '{"a":{},"a":"y"}',
      '{"\\u0061":"x"}', // an escaped top-level key
      '{"a":"\\u0078"}', // an escaped chosen value
      '[1]',
      '"a"',
      '',
      '{',
      '{"a":1,}',
      '{"a":[1,]}',
      '{"a":01}',
      '{"a":1.}',
      '{"a":.5}',
      '{"a":1e}',
      '{"a":-}',
      '{"a":tru}',
      '{"a":nul}',
      '{"a":"\t"}',
      '{"a":"\\x"}',
      '{"a":"\\u12"}',
      '{"a":"x}',
      '{"a" "x"}',
      '{"a":"x"} x',
      '{"a":"x"}}',
      '{a:1}',
      "{'a':1}",
      '{"a":NaN}',
      '{"a":+1}',
    ]) {
      assert.equal(scan(text).result, SCAN_UNSURE, text);
    }
    // Escapes elsewhere are fine, and other keys may repeat.
    assert.equal(scan('{"b":"\\u0078\\n","b":1,"c":{"d\\"":[]}}').result, SCAN_FOUND);
  });

  it('agrees with JSON.parse on generated and mutated objects', () => {
    const next = random(20261203);
    const alphabet = '{}[]":,\\ \t0123456789.eE+-aeflnrstux\u0001é';
    let found = 0;
    for (let round = 0; round < 20_000; round++) {
      let text = JSON.stringify(randomValue(next, 0), null, next() < 0.2 ? 1 : undefined).replaceAll(
        '\n',
        ' ',
      );
      if (next() < 0.6) {
        const at = Math.floor(next() * (text.length + 1));
        const char = alphabet[Math.floor(next() * alphabet.length)]!;
        text =
          next() < 0.5 ? text.slice(0, at) + char + text.slice(at) : text.slice(0, at) + text.slice(at + 1);
      }
      const bytes = Buffer.from(text);
      const { result, values } = scan(bytes);
      const object = parsed(bytes);
      if (result !== SCAN_FOUND) continue;
      found++;
      assert.ok(object, `the scan accepted what JSON.parse refuses: ${text}`);
      for (const [k, key] of KEYS.entries()) {
        const value: unknown = object[key];
        assert.equal(values[k], typeof value === 'string' ? value : undefined, `${key} in ${text}`);
      }
    }
    assert.ok(found > 1000, `only ${found} objects vouched for`);
  });

  it('vouches for every valid object without repeats or escapes, however deep', () => {
    const deep = `{"a":${'['.repeat(500)}${']'.repeat(500)},"b":${'{"c":'.repeat(300)}1${'}'.repeat(300)}}`;
    assert.equal(scan(deep).result, SCAN_FOUND);
    // Deeper than its stack: JSON.parse decides.
    assert.equal(scan(`{"a":${'['.repeat(5000)}${']'.repeat(5000)}}`).result, SCAN_UNSURE);
    const next = random(7);
    for (let round = 0; round < 2000; round++) {
      const value: unknown = randomValue(next, 0);
      if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
      const text = JSON.stringify(value);
      if (
        Object.keys(value).some(
          (key) => KEYS.includes(key) && /\\/.test(JSON.stringify((value as Record<string, unknown>)[key])),
        )
      ) {
        continue;
      }
      assert.equal(scan(text).result, SCAN_FOUND, text);
    }
  });
});

describe('event-scan.wasm', () => {
  it('is what wasm/event-scan.ts compiles to (npm run build:wasm)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'event-scan-'));
    try {
      const script = JSON.parse(await readFile('package.json', 'utf8')).scripts['build:wasm'] as string;
      const args = script.split(' ').slice(1);
      args[args.indexOf('--outFile') + 1] = join(dir, 'event-scan.wasm');
      await promisify(execFile)(process.execPath, ['node_modules/assemblyscript/bin/asc.js', ...args]);
      assert.ok(
        (await readFile(join(dir, 'event-scan.wasm'))).equals(
          await readFile('src/amplitude/event-scan.wasm'),
        ),
        'src/amplitude/event-scan.wasm is stale: run npm run build:wasm',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives back the memory an unusually long line took', () => {
    const long = Buffer.from(`{"a":"${'x'.repeat(80 * 1024 * 1024)}"}`);
    const own = new EventScanner(KEYS);
    own.load(long, 0, long.length, long.length);
    assert.equal(own.scanObject(0, long.length), true);
    assert.ok(own.memoryBytes > 160 * 1024 * 1024, `${own.memoryBytes}`);
    const short = Buffer.from('{"a":"x"}');
    own.load(short, 0, short.length, short.length);
    assert.ok(own.memoryBytes < 1024 * 1024, `${own.memoryBytes}`);
    assert.equal(own.scanObject(0, short.length), true);
    assert.equal(own.bytes.toString('latin1', own.starts[0], own.ends[0]), 'x');
  });
});
