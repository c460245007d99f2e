// The Airbyte protocol's messages, one JSON object a line on stdout, written with backpressure so that a
// slow reader (Airbyte's destination) holds the sync's output instead of our memory.
import { isUtf8 } from 'node:buffer';
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

const NEWLINE = 0x0a;
const NOTHING = Buffer.alloc(0);

/**
 * RECORD lines around NDJSON lines that come as bytes, in chunks cut anywhere: each line is copied
 * between the record's two ends, never decoded into a string and encoded again. Empty lines are skipped.
 */
export class RecordFramer {
  readonly #head: Buffer;
  readonly #tail: Buffer;
  /** The pieces of a line that continues in the next chunk (joined once, when it ends). */
  #partial: Buffer[] = [];

  records = 0;

  constructor(stream: StreamName, emittedAt: number) {
    const [head, tail] = recordLine(stream, '\0', emittedAt).split('\0') as [string, string];
    this.#head = Buffer.from(head);
    this.#tail = Buffer.from(tail);
  }

  /** The RECORD lines of the lines this chunk completes. */
  push(chunk: Buffer): Buffer {
    const firstEnd = chunk.indexOf(NEWLINE);
    if (firstEnd < 0) {
      if (chunk.length > 0) this.#partial.push(Buffer.from(chunk));
      return NOTHING;
    }
    const lastEnd = chunk.lastIndexOf(NEWLINE);
    const first = this.#takePartial(chunk.subarray(0, firstEnd));
    if (lastEnd + 1 < chunk.length) this.#partial.push(Buffer.from(chunk.subarray(lastEnd + 1)));
    return this.#frame(first, chunk, first ? firstEnd + 1 : 0, lastEnd + 1);
  }

  /** The RECORD line of a last line without its newline. */
  end(): Buffer {
    const last = this.#takePartial(NOTHING);
    return last ? this.#frame(last, NOTHING, 0, 0) : NOTHING;
  }

  /** The line begun in earlier chunks (never empty), ended by `rest`; undefined when none was begun. */
  #takePartial(rest: Buffer): Buffer | undefined {
    if (this.#partial.length === 0) return undefined;
    const line = Buffer.concat([...this.#partial, rest]);
    this.#partial = [];
    return line;
  }

  /** `first` (a line without its newline, if any), then the newline-ended lines of bytes[start, end). */
  #frame(first: Buffer | undefined, bytes: Buffer, start: number, end: number): Buffer {
    if (!isUtf8(bytes.subarray(start, end)) || (first && !isUtf8(first))) {
      // Bytes that are not UTF-8 become U+FFFD, as when the lines were decoded into strings.
      const text = Buffer.from(
        `${first ? `${first.toString()}\n` : ''}${bytes.toString('utf8', start, end)}`,
      );
      return this.#frame(undefined, text, 0, text.length);
    }
    const spans: number[] = [];
    let size = first?.length ?? 0;
    for (let at = start; at < end; ) {
      const lineEnd = bytes.indexOf(NEWLINE, at);
      if (lineEnd > at) {
        spans.push(at, lineEnd);
        size += lineEnd - at;
      }
      at = lineEnd + 1;
    }
    const records = spans.length / 2 + (first ? 1 : 0);
    const out = Buffer.allocUnsafe(size + records * (this.#head.length + this.#tail.length));
    let written = 0;
    const put = (source: Buffer, from: number, to: number) => {
      written += this.#head.copy(out, written);
      written += source.copy(out, written, from, to);
      written += this.#tail.copy(out, written);
    };
    if (first) put(first, 0, first.length);
    for (let index = 0; index < spans.length; index += 2) put(bytes, spans[index]!, spans[index + 1]!);
    this.records += records;
    return out;
  }
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

  async lines(text: string | Uint8Array): Promise<void> {
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
