// The configured catalog `read` is given: which streams, each in full refresh or incremental. Anything
// Airbyte would not accept either is refused, naming the stream and the fix.
import { z } from 'zod';
import { isStreamName, STREAM_NAMES, STREAMS, type StreamName } from '../amplitude/streams.ts';

export interface ReadSelection {
  /** In the catalog's order. */
  streams: StreamName[];
  /** The streams read from their state; the others read everything from start_date. */
  incremental: Set<StreamName>;
}

export class CatalogError extends Error {
  override name = 'CatalogError';
}

const configuredStream = z.looseObject({
  stream: z.looseObject({ name: z.string({ error: 'stream.name must be a stream name' }) }),
  sync_mode: z.enum(['full_refresh', 'incremental'], {
    error: 'sync_mode must be "full_refresh" or "incremental"',
  }),
});

const configuredCatalog = z.looseObject({
  streams: z
    .array(configuredStream, { error: 'streams must be a list of configured streams' })
    .min(1, 'streams is empty: configure at least one stream (see `discover`)'),
});

export function readSelection(value: unknown, source: string): ReadSelection {
  const parsed = configuredCatalog.safeParse(value);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) =>
      issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message,
    );
    throw new CatalogError(`${source} is not a configured catalog: ${problems.join('; ')}`);
  }
  const streams: StreamName[] = [];
  const incremental = new Set<StreamName>();
  const problems: string[] = [];
  for (const { stream, sync_mode } of parsed.data.streams) {
    const name = stream.name;
    if (!isStreamName(name)) {
      problems.push(`unknown stream "${name}" (the streams: ${STREAM_NAMES.join(', ')})`);
    } else if (streams.includes(name)) {
      problems.push(`${name} is configured twice`);
    } else if (sync_mode === 'incremental' && !STREAMS[name].cursorField) {
      problems.push(`${name} supports full_refresh only: set its sync_mode to "full_refresh"`);
    } else {
      streams.push(name);
      if (sync_mode === 'incremental') incremental.add(name);
    }
  }
  if (problems.length > 0) throw new CatalogError(`${source}: ${problems.join('; ')}`);
  return { streams, incremental };
}
