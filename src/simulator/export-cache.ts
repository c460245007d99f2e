import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BufferCollector } from '../amplitude/buffer-collector.ts';
import { isoHour } from '../amplitude/time.ts';
import type { ExportMember } from './export-members.ts';
import { hashString } from './random.ts';

/** Bump when generated content changes, so that caches rendered by older code are not served. */
const CACHE_FORMAT = 'v1';

/** Frees the buffers of the member files served while they are young (buffer-collector.ts). */
const collector = new BufferCollector({ minor: 4 * 1024 * 1024 });

export interface ExportCacheKey {
  seed: string;
  projectId: number;
  eventsPerPartition: number;
  firstPartitionIndex: number;
  gzipLevel: number;
}

/**
 * Gzip members rendered once to disk and then served from there. A member file is written under a
 * temporary name and renamed into place, so a file that exists is complete.
 */
export class ExportCache {
  private readonly directory: string;
  private readonly rendering = new Map<string, Promise<string>>();

  constructor(root: string, key: ExportCacheKey) {
    const fingerprint = hashString(JSON.stringify([CACHE_FORMAT, key]))
      .toString(16)
      .padStart(8, '0');
    this.directory = join(root, `${key.projectId}-${fingerprint}`);
  }

  private pathOf(member: ExportMember): string {
    return join(
      this.directory,
      `${isoHour(member.hourStartMs)}_${member.hourCount}#${member.partition.number}.json.gz`,
    );
  }

  /** The member's bytes from its cache file, rendering it first with `render` if needed. */
  async *bytes(member: ExportMember, render: () => AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const path = await this.ensure(member, render);
    const file = createReadStream(path, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>;
    for await (const chunk of file) {
      yield chunk;
      collector.spent(chunk.length);
    }
  }

  private ensure(member: ExportMember, render: () => AsyncIterable<Uint8Array>): Promise<string> {
    const path = this.pathOf(member);
    let pending = this.rendering.get(path);
    if (!pending) {
      pending = this.renderOnce(path, render).finally(() => this.rendering.delete(path));
      this.rendering.set(path, pending);
    }
    return pending;
  }

  private async renderOnce(path: string, render: () => AsyncIterable<Uint8Array>): Promise<string> {
    if (await exists(path)) return path;
    await mkdir(this.directory, { recursive: true });
    const temporary = `${path}.${randomUUID()}.tmp`;
    try {
      await pipeline(Readable.from(render()), createWriteStream(temporary));
      await rename(temporary, path);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
    return path;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
