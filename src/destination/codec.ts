// The codecs of file partitions: gzip at level 1 (read by every tool) or zstd at level 1 (about twice
// gzip's speed and a third smaller on our NDJSON; bench/codecs.bench.ts). Native zlib either way, so
// the work runs on libuv's thread pool. A partition's name says which (.jsonl.gz or .jsonl.zst).
import type { Transform } from 'node:stream';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { BlockCompressor } from './block-compressor.ts';
import { PARTITION_SUFFIX } from './layout.ts';
import type { Compression } from './spec.ts';
import { zstd, zstdLevelOne } from './zstd.ts';

const CHUNK = 128 * 1024;

export function zstdAvailable(): boolean {
  return typeof zstd.createZstdCompress === 'function';
}

const zstdOptions = () => ({ chunkSize: CHUNK, params: zstdLevelOne() });

/** A partition's compressor: in blocks, on several threads (block-compressor.ts). */
export function compressor(compression: Compression): Transform {
  return new BlockCompressor(compression);
}

/** A partition's codec, by its name. */
export function compressionOfPartition(partition: string): Compression {
  return partition.endsWith(PARTITION_SUFFIX.zstd) ? 'zstd' : 'gzip';
}

/** The same partition in the other codec: removed when this one is written, so a unit has one place. */
export function otherCodecPartition(partition: string): string {
  const compression = compressionOfPartition(partition);
  const other: Compression = compression === 'zstd' ? 'gzip' : 'zstd';
  return partition.slice(0, -PARTITION_SUFFIX[compression].length) + PARTITION_SUFFIX[other];
}

/**
 * The decompressor for a partition, by its name. Its output in chunks of 128 KiB rather than zlib's 16:
 * `read` emitted 530 MB of records in 1.55 s instead of 2.3 (256 KiB: 1.3 s alone, no faster in a
 * whole `read`, a few MB more at its peak).
 */
export function decompressorFor(partition: string): Transform {
  const options = { chunkSize: CHUNK };
  return compressionOfPartition(partition) === 'zstd'
    ? zstd.createZstdDecompress!(options)
    : zlib.createGunzip(options);
}

/** A whole partition's bytes, decompressed by its name's codec (tools and tests). */
export function decompressPartitionSync(partition: string, bytes: Uint8Array): Buffer {
  return compressionOfPartition(partition) === 'zstd'
    ? zstd.zstdDecompressSync!(bytes)
    : zlib.gunzipSync(bytes);
}

const gzipAsync = promisify(zlib.gzip);

/** Records as compressed NDJSON, one JSON object a line, in the codec the partition's name says. */
export function compressRecords(partition: string, records: readonly object[]): Promise<Buffer> {
  const compression = compressionOfPartition(partition);
  const text = records.map((record) => `${JSON.stringify(record)}\n`).join('');
  if (compression === 'gzip') return gzipAsync(text);
  return promisify(zstd.zstdCompress!)(text, zstdOptions());
}

export const CONTENT_TYPE: Record<Compression, string> = {
  gzip: 'application/gzip',
  zstd: 'application/zstd',
};
