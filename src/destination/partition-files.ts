// What the file-shaped destinations (local, s3) share: the tag that marks a connection's temporary files.
import { createHash } from 'node:crypto';
import { connectionOf } from './layout.ts';

/** The tag in the temporary names of one connection's files. */
export function ownerTag(runKey: string): string {
  return `as${createHash('sha256').update(connectionOf(runKey)).digest('hex').slice(0, 8)}`;
}
