import type { ServerResponse } from 'node:http';

export const RAW_DATA_NOT_FOUND = 'Raw data files were not found.';

/** The JSON error envelope of the Dashboard REST API. */
export function errorEnvelope(httpCode: number, type: string, message: string, details: string) {
  return { error: { http_code: httpCode, type, message, metadata: { details } } };
}

export const GATEWAY_TIMEOUT_PAGE =
  '<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n';

export const NON_ZIP_PAGE =
  '<!DOCTYPE html>\n<html><head><title>Amplitude</title></head><body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>\n';

export function headersFor(contentType: string, extra: Record<string, string> = {}): Record<string, string> {
  return { 'Content-Type': contentType, ...extra };
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  extraHeaders: Record<string, string> = {},
) {
  res.writeHead(status, {
    ...headersFor('text/plain; charset=utf-8', extraHeaders),
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function sendHtml(res: ServerResponse, status: number, html: string) {
  res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(html) });
  res.end(html);
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...headersFor('application/json', extraHeaders),
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

/** Resolves once the response can take more data, or has gone away. */
function writable(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Resolves once the chunk has been handed to the operating system (or the write failed). */
function written(res: ServerResponse, chunk: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    res.write(chunk, () => resolve());
  });
}

export type PumpOutcome = 'complete' | 'limit' | 'closed';

/**
 * Writes `body` to `res` with backpressure: waits for 'drain' whenever write() returns false.
 * With `limitBytes`, stops after exactly that many body bytes (all of them flushed) and returns 'limit'.
 * Does not end the response.
 */
export async function pumpBody(
  res: ServerResponse,
  body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limitBytes = Number.POSITIVE_INFINITY,
): Promise<PumpOutcome> {
  let sent = 0;
  if (limitBytes <= 0) return 'limit';
  for await (const chunk of body) {
    if (res.destroyed) return 'closed';
    const room = limitBytes - sent;
    if (chunk.length >= room) {
      await written(res, chunk.subarray(0, room));
      return 'limit';
    }
    sent += chunk.length;
    if (!res.write(chunk)) await writable(res);
  }
  return res.destroyed ? 'closed' : 'complete';
}

/** Resolves when the client has gone away (or the server closed the connection). */
export function untilClosed(res: ServerResponse): Promise<void> {
  if (res.destroyed || res.socket?.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', () => resolve()));
}
