// zlib's zstd (Node 22.15 and later), typed here since @types/node of older Nodes lack it.
import type { Transform } from 'node:stream';
import zlib from 'node:zlib';

export const zstd = zlib as unknown as {
  createZstdCompress?(options: object): Transform;
  createZstdDecompress?(options?: object): Transform;
  zstdCompress?(
    data: string | Uint8Array,
    options: object,
    done: (error: Error | null, out: Buffer) => void,
  ): void;
  zstdDecompressSync?(data: Uint8Array): Buffer;
  constants: { ZSTD_c_compressionLevel?: number; ZSTD_e_end?: number };
};

/** Level 1, as every partition is written. */
export function zstdLevelOne(): Record<number, number> {
  return { [zstd.constants.ZSTD_c_compressionLevel!]: 1 };
}
