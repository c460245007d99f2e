// Export archives built in tests, in the two layouts a streaming reader meets.
import { Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';

export type Members = Record<string, Uint8Array>;

/** Sizes in the local headers (a zip written to a file). */
export const sizedZip = (members: Members) => zipSync(members, { level: 0 });

/** Streamed with data descriptors (sizes after the data), stored or deflated. */
export function streamedZip(members: Members, deflate = false): Uint8Array {
  const out: Uint8Array[] = [];
  const zip = new Zip((error, chunk) => {
    if (error) throw error;
    out.push(chunk);
  });
  for (const [name, data] of Object.entries(members)) {
    const file = deflate ? new ZipDeflate(name, { level: 6 }) : new ZipPassThrough(name);
    zip.add(file);
    file.push(data, true);
  }
  zip.end();
  return Buffer.concat(out);
}

/** The bytes as an HTTP body arriving in pieces of `size`. */
export async function* inPieces(bytes: Uint8Array, size: number) {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}
