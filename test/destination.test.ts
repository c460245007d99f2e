import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { eventHourPartition } from '../src/destination/layout.ts';
import { LocalDestination } from '../src/destination/local.ts';
import { ownerTag } from '../src/destination/partition-files.ts';

const HOUR = 3_600_000;
const base = Date.UTC(2024, 2, 1, 0);

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('local destination', () => {
  it('writes each hour to one gzip partition, even when its compressor had to be closed early', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dest-'));
    const destination = new LocalDestination(root);
    const writer = destination.hourWriter('attempt-1', 2);
    for (let round = 0; round < 3; round++) {
      for (let h = 0; h < 5; h++)
        await writer.write(base + h * HOUR, Buffer.from(`{"h":${h},"round":${round}}\n`), 1);
    }
    assert.deepEqual(
      writer.pendingHours(),
      [0, 1, 2, 3, 4].map((h) => base + h * HOUR),
    );
    const written = [];
    for (const hour of writer.pendingHours()) written.push(await writer.commit(hour));
    assert.equal(written.length, 5);
    for (let h = 0; h < 5; h++) {
      const lines = gunzipSync(await readFile(join(root, eventHourPartition(base + h * HOUR))))
        .toString()
        .trim()
        .split('\n');
      assert.deepEqual(
        lines,
        [0, 1, 2].map((round) => `{"h":${h},"round":${round}}`),
      );
      assert.equal(written[h]?.records, 3);
    }
    const files = await filesUnder(root);
    assert.equal(files.filter((f) => f.endsWith('.tmp')).length, 0, 'no temporary file is left behind');
    assert.equal(files.length, 5);
  });

  it('an aborted writer leaves nothing: no partition, no temporary file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dest-'));
    const writer = new LocalDestination(root).hourWriter('attempt-1');
    await writer.write(base, Buffer.from('{"a":1}\n'), 1);
    await writer.write(base + HOUR, Buffer.from('{"a":2}\n'), 1);
    await writer.abort();
    assert.deepEqual(await filesUnder(root), []);
  });

  it('two writers of the same hours at once (two syncs of one destination) leave whole files', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dest-'));
    const destination = new LocalDestination(root);
    const writers = ['run-a', 'run-b'].map((tag) => destination.hourWriter(`3-1-${tag}`, 1));
    for (let h = 0; h < 3; h++) {
      for (const [i, writer] of writers.entries()) {
        await writer.write(base + h * HOUR, Buffer.from(`{"h":${h},"writer":${i}}\n`.repeat(1000)), 1000);
      }
    }
    await Promise.all(
      writers.map(async (writer) => Promise.all(writer.pendingHours().map((h) => writer.commit(h)))),
    );
    for (let h = 0; h < 3; h++) {
      const lines = new Set(
        gunzipSync(await readFile(join(root, eventHourPartition(base + h * HOUR))))
          .toString()
          .trim()
          .split('\n'),
      );
      assert.equal(lines.size, 1, "the file is one writer's, whole");
    }
    assert.equal((await filesUnder(root)).filter((f) => f.endsWith('.tmp')).length, 0);
  });

  it('rewriting a partition replaces it whole', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dest-'));
    const destination = new LocalDestination(root);
    await destination.replacePartition('annotations/annotations.jsonl.gz', [{ id: 1 }, { id: 2 }]);
    const second = await destination.replacePartition('annotations/annotations.jsonl.gz', [{ id: 3 }]);
    assert.equal(second.records, 1);
    const text = gunzipSync(await readFile(join(root, 'annotations/annotations.jsonl.gz'))).toString();
    assert.equal(text, '{"id":3}\n');
    assert.deepEqual(await filesUnder(root), ['annotations/annotations.jsonl.gz']);
  });

  it('gathers slice receipts into one manifest', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dest-'));
    const destination = new LocalDestination(root);
    await destination.writeReceipt('sync-1/run', {
      stream: 'events',
      slice: 'a',
      partitions: [{ partition: 'p1', records: 2, bytes: 9 }],
    });
    await destination.writeReceipt('sync-1/run', { stream: 'cohorts', slice: 'snapshot', partitions: [] });
    const receipts = await destination.readReceipts('sync-1/run');
    assert.deepEqual(receipts.map((r) => r.stream).sort(), ['cohorts', 'events']);
    const sync = { workflowId: 'sync-1', runId: 'run', startedAt: 'a', finishedAt: 'b' };
    const path = await destination.writeManifest('sync-1/run', { sync, state: {}, streams: {}, receipts });
    assert.deepEqual(JSON.parse(await readFile(path, 'utf8')).receipts.length, 2);
    assert.deepEqual(await destination.readReceipts('sync-1/run'), [], 'receipts are removed once gathered');
  });
});

describe('local destination when the disk fails', () => {
  it('a file that cannot be written fails the writer (no crash, no hang) and nothing is published', async () => {
    const root = await mkdtemp(join(tmpdir(), 'dest-'));
    const writer = new LocalDestination(root).hourWriter('attempt-1');
    // The part file's name is taken by a directory, so opening it fails after the write was accepted.
    const partition = join(root, eventHourPartition(base));
    await mkdir(join(dirname(partition), `.${basename(partition)}.${ownerTag('local')}-attempt-1.0.tmp`), {
      recursive: true,
    });
    await writer.write(base, Buffer.from('{"a":1}\n'), 1);
    await assert.rejects(writer.commit(base), /EISDIR/);
    await assert.rejects(writer.write(base, Buffer.from('{"a":2}\n'), 1), /EISDIR/);
    await writer.abort();
    assert.deepEqual(await filesUnder(root), []);
  });
});
