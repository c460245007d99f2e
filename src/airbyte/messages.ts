// The Airbyte protocol's messages, one JSON object a line on stdout, written with backpressure so that a
// slow reader (Airbyte's destination) holds the sync's output instead of our memory.
import type { Writable } from 'node:stream';
import type { StreamName } from '../amplitude/streams.ts';
import type { AirbyteCatalog } from './catalog.ts';
import type { AirbyteConnectorSpecification } from './spec.ts';

/** Airbyte's failure types: the person's config is wrong, or something else is. */
export type FailureKind = 'config_error' | 'system_error';

export type AirbyteStreamState = Record<string, unknown>;

export const specMessage = (spec: AirbyteConnectorSpecification) => ({ type: 'SPEC', spec });

export const catalogMessage = (catalog: AirbyteCatalog) => ({ type: 'CATALOG', catalog });

export const connectionStatusMessage = (failure?: string) => ({
  type: 'CONNECTION_STATUS',
  connectionStatus: failure === undefined ? { status: 'SUCCEEDED' } : { status: 'FAILED', message: failure },
});

export const logMessage = (level: 'INFO' | 'WARN' | 'ERROR', message: string) => ({
  type: 'LOG',
  log: { level, message },
});

export const streamStateMessage = (stream: StreamName, streamState: AirbyteStreamState) => ({
  type: 'STATE',
  state: { type: 'STREAM', stream: { stream_descriptor: { name: stream }, stream_state: streamState } },
});

export type StreamStatus = 'STARTED' | 'RUNNING' | 'COMPLETE' | 'INCOMPLETE';

export const streamStatusMessage = (stream: StreamName, status: StreamStatus) => ({
  type: 'TRACE',
  trace: {
    type: 'STREAM_STATUS',
    emitted_at: Date.now(),
    stream_status: { stream_descriptor: { name: stream }, status },
  },
});

export const errorTraceMessage = (kind: FailureKind, message: string, internal?: string) => ({
  type: 'TRACE',
  trace: {
    type: 'ERROR',
    emitted_at: Date.now(),
    error: { message, ...(internal ? { internal_message: internal } : {}), failure_type: kind },
  },
});

/** The RECORD line for one record already serialised as JSON (a line of our NDJSON output). */
export function recordLine(stream: StreamName, json: string, emittedAt: number): string {
  return `{"type":"RECORD","record":{"stream":"${stream}","data":${json},"emitted_at":${emittedAt}}}\n`;
}

/** The reader of our output went away (EPIPE): nothing more can be delivered. */
export class OutputClosedError extends Error {
  override name = 'OutputClosedError';
}

/**
 * Writes protocol lines to `out`, waiting for it to drain when its buffer is full. `closed` aborts when
 * `out` fails (its reader went away): whoever produces the lines stops then.
 */
export class ProtocolWriter {
  readonly #closing = new AbortController();
  readonly closed = this.#closing.signal;

  constructor(private readonly out: Writable) {
    out.on('error', (error) => this.#closing.abort(new OutputClosedError(`output closed: ${error.message}`)));
  }

  async message(message: object): Promise<void> {
    await this.lines(`${JSON.stringify(message)}\n`);
  }

  async lines(text: string): Promise<void> {
    if (this.closed.aborted) throw this.closed.reason;
    if (text.length === 0 || this.out.write(text)) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        this.out.off('drain', done);
        this.closed.removeEventListener('abort', done);
        resolve();
      };
      this.out.on('drain', done);
      this.closed.addEventListener('abort', done);
    });
    if (this.closed.aborted) throw this.closed.reason;
  }
}
