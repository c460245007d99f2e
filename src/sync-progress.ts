// Where a running sync stands, from its progress queries: the sync reports each stream it has
// finished; a stream still running reports for itself, from its own workflow (`<sync id>/<stream>`).
import type { Client } from '@temporalio/client';
import type { StreamName } from './amplitude/streams.ts';
import type { StreamProgress } from './workflows/stream.ts';
import type { StreamSummary } from './workflows/types.ts';

/** Per stream (`streams`, else every stream the sync names), its summary or live progress; undefined before it starts. */
export async function streamsProgress(
  client: Client,
  workflowId: string,
  streams?: readonly StreamName[],
): Promise<Map<StreamName, StreamProgress | StreamSummary | undefined>> {
  const parent = (await client.workflow
    .getHandle(workflowId)
    .query('progress')
    .catch(() => ({}))) as Partial<Record<StreamName, StreamSummary | 'running'>>;
  const names = streams ?? (Object.keys(parent) as StreamName[]);
  const entries = await Promise.all(
    names.map(async (stream) => {
      const known = parent[stream];
      if (known && known !== 'running') return [stream, known] as const;
      const live = (await client.workflow
        .getHandle(`${workflowId}/${stream}`)
        .query('progress')
        .catch(() => undefined)) as StreamProgress | undefined;
      return [stream, live] as const;
    }),
  );
  return new Map(entries);
}
