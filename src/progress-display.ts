// What `sync` shows on a terminal while it runs: one line per stream, redrawn in place every second,
// from the workflows' progress queries and their pending retries: slices done of the total, records,
// throughput, and the retry it waits for and why ("429 from Amplitude, next try in 40 s").
import type { Client } from '@temporalio/client';
import type { StreamName } from './amplitude/streams.ts';
import { pendingRetries } from './retry-watch.ts';
import { streamsProgress } from './sync-progress.ts';
import type { StreamProgress } from './workflows/stream.ts';

const MB = 1e6;

interface Seen {
  bytes: number;
  at: number;
}

function count(value: number): string {
  return value.toLocaleString('en-US');
}

/** The lines of one frame; `previous` carries each stream's bytes between frames for the throughput. */
export async function progressFrame(
  client: Client,
  workflowId: string,
  streams: StreamName[],
  previous: Map<string, Seen>,
): Promise<string[]> {
  const progress = await streamsProgress(client, workflowId, streams);
  const retries = await pendingRetries(
    client,
    streams.map((stream) => `${workflowId}/${stream}`),
    new Set(),
  ).catch(() => []);
  const now = Date.now();
  return streams.map((stream) => {
    const live = progress.get(stream);
    if (!live) return `${stream}: waiting to start`;
    const pending = 'slicesPending' in live ? (live as StreamProgress).slicesPending : 0;
    const seen = previous.get(stream);
    previous.set(stream, { bytes: live.bytes, at: now });
    const rate =
      seen && now > seen.at
        ? ` ${((live.bytes - seen.bytes) / MB / ((now - seen.at) / 1000)).toFixed(1)} MB/s,`
        : '';
    const state = live.status === 'incomplete' ? 'running' : live.status;
    const retry = retries.find((line) => line.workflowId === `${workflowId}/${stream}`);
    const waiting = retry ? `; retry waiting: ${retry.text.slice(stream.length + 2)}` : '';
    return `${stream}: ${state}, ${live.slices} of ${live.slices + pending} slices, ${count(live.records)} records,${rate} ${count(Math.round(live.bytes / 1024))} KB${waiting}`;
  });
}

/** Redraws the frame in place on a terminal every `everyMs` until stopped; the last frame stays. */
export function showProgress(
  client: Client,
  workflowId: string,
  streams: StreamName[],
  out: NodeJS.WriteStream,
  everyMs = 1000,
): { stop(): Promise<void> } {
  const previous = new Map<string, Seen>();
  let drawn = 0;
  let stopped = false;
  let wake: (() => void) | undefined;
  const draw = (lines: string[]) => {
    const width = out.columns || 120;
    let text = drawn > 0 ? `\x1b[${drawn}A` : '';
    for (const line of lines)
      text += `\x1b[2K${line.length > width ? `${line.slice(0, width - 1)}…` : line}\n`;
    out.write(text);
    drawn = lines.length;
  };
  const loop = async () => {
    while (!stopped) {
      const lines = await progressFrame(client, workflowId, streams, previous).catch(() => undefined);
      if (lines && !stopped) draw(lines);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, everyMs).unref();
      });
    }
  };
  const done = loop();
  return {
    async stop() {
      stopped = true;
      wake?.();
      await done;
      const last = await progressFrame(client, workflowId, streams, previous).catch(() => undefined);
      if (last) draw(last);
    },
  };
}
