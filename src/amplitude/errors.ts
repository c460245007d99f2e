// The one error mapping: what an Amplitude answer (or a failed write) means, and the Temporal failure
// it becomes. Workflow code imports the failure type names from here, so this module stays free of
// Node built-ins.
import { ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  /** 401/403: bad key or wrong data region. Never retried. */
  AuthFailed: 'AmplitudeAuthFailed',
  /** 429: retried, after Retry-After when Amplitude sends one. */
  RateLimited: 'AmplitudeRateLimited',
  /** 400 on a Dashboard endpoint, or a 404 that is not "no data": the request itself is wrong. Never retried. */
  BadRequest: 'AmplitudeBadRequest',
  /**
   * An export window of several hours that Amplitude refused as too large (400) or gave up on (504, or
   * a reset before the first byte): the workflow splits it at once. Not retried as is.
   */
  ExportWindowTooLarge: 'AmplitudeExportWindowTooLarge',
  /** One export hour timed out (504 or a reset before the first byte): retried with a long backoff. */
  ExportHourTimedOut: 'AmplitudeExportHourTimedOut',
  /** One export hour refused as too large, or timed out every time: only the S3/GCS export can deliver it. */
  ExportHourTooLarge: 'AmplitudeExportHourTooLarge',
  /** 5xx, resets, stalls, truncated or non-zip bodies: transient, retried with backoff. */
  Unavailable: 'AmplitudeUnavailable',
  /** The connection to Amplitude could not be made (refused, no such host, no route): retried with backoff. */
  Unreachable: 'AmplitudeUnreachable',
  /** Kept for histories of earlier versions: a recent export window answered 404 and was asked again. */
  ExportNotYetAvailable: 'AmplitudeExportNotYetAvailable',
  /** The destination cannot be written (not a directory, no permission, read-only, full). Never retried. */
  DestinationUnwritable: 'DestinationUnwritable',
} as const;
export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** A non-2xx answer from Amplitude. */
export class AmplitudeHttpError extends Error {
  override name = 'AmplitudeHttpError';
  constructor(
    readonly status: number,
    readonly endpoint: string,
    readonly body: string,
    readonly retryAfterMs?: number,
  ) {
    super(`Amplitude answered HTTP ${status} on ${endpoint}${body ? `: ${amplitudeMessage(body)}` : ''}`);
  }
}

/**
 * When a request failed: before a connection existed (Amplitude unreachable), after the request was
 * sent but before the first byte of the answer (Amplitude gave up, or a gateway dropped it), or while
 * reading the answer.
 */
export type TransportPhase = 'connect' | 'awaiting-answer' | 'body';

/** The connection failed, stalled or delivered a body that is not what a 200 promises. */
export class AmplitudeTransportError extends Error {
  override name = 'AmplitudeTransportError';
  readonly phase: TransportPhase;
  constructor(message: string, options: { cause?: unknown; phase?: TransportPhase } = {}) {
    super(message, options.cause === undefined ? {} : { cause: options.cause });
    this.phase = options.phase ?? 'body';
  }
}

const CONNECT_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved now',
  EHOSTUNREACH: 'no route to the host',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  ETIMEDOUT: 'the connection timed out',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
  ERR_TLS_CERT_ALTNAME_INVALID: 'its TLS certificate is for another host',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'its TLS certificate cannot be verified',
};

/** The error code of a Node or undici error, or of the error it wraps. */
function errorCode(error: unknown): string | undefined {
  let current = error as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; current && depth < 4; depth++) {
    if (typeof current.code === 'string') return current.code;
    current = current.cause as typeof current;
  }
  return undefined;
}

/** Whether a failed request never reached Amplitude, and how to say why in a few words. */
export function unreachableReason(error: unknown): string | undefined {
  const code = errorCode(error);
  return code === undefined ? undefined : CONNECT_CODES[code];
}

/** The phase in which a request that threw before any answer failed. */
export function requestFailurePhase(error: unknown): TransportPhase {
  return unreachableReason(error) ? 'connect' : 'awaiting-answer';
}

/**
 * Amplitude gave up on an export before answering: a 504, or the connection closed or timed out
 * after the request was sent and before the first byte. Its docs say a 504 means the window held too
 * much data; gateway timeouts also come and go.
 */
export function isExportTimeout(error: unknown): boolean {
  if (error instanceof AmplitudeHttpError) return error.endpoint === '/api/2/export' && error.status === 504;
  return error instanceof AmplitudeTransportError && error.phase === 'awaiting-answer';
}

/** Amplitude refused an export window as too large (its 400). */
export function isExportTooLarge(error: unknown): boolean {
  return error instanceof AmplitudeHttpError && error.endpoint === '/api/2/export' && error.status === 400;
}

const S3_EXPORT_ADVICE =
  "An hour Amplitude cannot serve can only be delivered by Amplitude's Amazon S3 or Google Cloud Storage export: " +
  'set one up for this project (https://amplitude.com/docs/data/destination-catalog/amazon-s3) and load this hour from it.';

/** The failure for one export hour that Amplitude cannot serve through the Export API. */
export function exportHourFailure(hour: string, what: string): ApplicationFailure {
  return ApplicationFailure.create({
    type: FailureType.ExportHourTooLarge,
    nonRetryable: true,
    message: `Amplitude cannot export the single hour ${hour}: ${what}. ${S3_EXPORT_ADVICE} The events watermark stays before ${hour}.`,
  });
}

const FILE_SYSTEM_FIXES: Record<string, string> = {
  ENOTDIR: 'a part of this path is a file, not a directory: point destination.path (or --out) at a directory',
  EACCES:
    'the worker may not write there: give its user write permission, or choose another destination.path',
  EPERM: 'the worker may not write there: give its user write permission, or choose another destination.path',
  EROFS: 'the file system is read-only: choose a writable destination.path',
  ENOSPC: 'the disk is full: free space (nothing partial was kept) and run the sync again',
  EDQUOT: 'the disk quota is used up: free space (nothing partial was kept) and run the sync again',
  EISDIR: 'a directory stands where a file must go: move it away',
  ENAMETOOLONG: 'the path is too long: choose a shorter destination.path',
  ELOOP: 'the path has a symbolic link loop: fix the link or choose another destination.path',
  EEXIST: 'a file stands where a directory must go: move it away or choose another destination.path',
};

/**
 * A destination that cannot be written, as a non-retryable failure naming the problem and the fix: a
 * file-system error retrying cannot fix, or what a destination reported about its configuration or
 * rights (an error named DestinationError). Anything else is transient.
 */
export function destinationFailure(error: unknown, context?: string): ApplicationFailure {
  if (error instanceof Error && error.name === 'DestinationError') {
    return ApplicationFailure.create({
      type: FailureType.DestinationUnwritable,
      nonRetryable: true,
      message: `${context ? `${context}: ` : ''}${error.message}`,
    });
  }
  if (error instanceof ApplicationFailure) return error;
  return (
    fileSystemFailure(error, context) ??
    ApplicationFailure.create({
      type: 'DestinationUnavailable',
      message: `${context ? `${context}: ` : ''}${(error as Error)?.message ?? String(error)}; retrying with backoff`,
    })
  );
}

/** A file-system error that retrying cannot fix, as a non-retryable failure naming the path and the fix. */
export function fileSystemFailure(error: unknown, context?: string): ApplicationFailure | undefined {
  const code = errorCode(error);
  const fix = code === undefined ? undefined : FILE_SYSTEM_FIXES[code];
  if (!fix) return undefined;
  const { path, syscall } = error as { path?: string; syscall?: string };
  const where = path ? ` ${path}` : '';
  return ApplicationFailure.create({
    type: FailureType.DestinationUnwritable,
    nonRetryable: true,
    message: `${context ? `${context}: ` : ''}cannot write the destination (${code}${syscall ? ` on ${syscall}` : ''}${where}): ${fix}.`,
  });
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Amplitude's JSON error envelope `{"error":{"message","metadata":{"details"}}}`; an HTML page (a
 * gateway's) by its title; else the text as sent.
 */
export function amplitudeMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; metadata?: { details?: string } } };
    const { message, metadata } = parsed.error ?? {};
    if (message) return metadata?.details ? `${message}: ${metadata.details}` : message;
  } catch {
    // not JSON: the text is the message
  }
  if (/^\s*</.test(body)) {
    const title = /<title>([^<]*)<\/title>/i.exec(body)?.[1];
    const text = title ?? body.replace(/<[^>]*>/g, ' ');
    return `(an HTML page) ${text.replace(/\s+/g, ' ').trim()}`.slice(0, 300);
  }
  return body.trim().slice(0, 300);
}

function hintForBadRequest(endpoint: string, message: string): string {
  if (endpoint.startsWith('/api/2/users') && /country/i.test(message)) {
    return 'This project has no country property to group by: set "active_users_group_by_country": false in the config.';
  }
  return 'Check the request parameters in the config (start_date, streams); this will not succeed by retrying.';
}

/**
 * Maps anything an Amplitude call threw to the Temporal failure the retry policy understands.
 * `context` (e.g. the export window) leads the message.
 */
export function toFailure(error: unknown, context?: string): ApplicationFailure {
  if (error instanceof ApplicationFailure) return error;
  const failure = classify(error);
  if (!context) return failure;
  return ApplicationFailure.create({
    type: failure.type ?? undefined,
    nonRetryable: failure.nonRetryable ?? undefined,
    nextRetryDelay: failure.nextRetryDelay,
    category: failure.category ?? undefined,
    message: `${context}: ${failure.message}`,
    cause: failure.cause,
  });
}

/** An error of the destination's client (the AWS SDK, PostgreSQL), not of Amplitude. */
function fromDestination(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'DestinationError' || error.name === 'PostgresError' || '$metadata' in error)
  );
}

function classify(error: unknown): ApplicationFailure {
  if (fromDestination(error)) return destinationFailure(error);
  const unwritable = fileSystemFailure(error);
  if (unwritable) return unwritable;
  if (error instanceof AmplitudeHttpError) {
    const message = amplitudeMessage(error.body);
    const where = `HTTP ${error.status} on ${error.endpoint}`;
    if (isExportTooLarge(error) || isExportTimeout(error)) {
      return ApplicationFailure.create({
        type: FailureType.ExportWindowTooLarge,
        nonRetryable: true,
        message: `Amplitude cannot export this window in one request (${where}${message ? `: ${message}` : ''}); it is split into smaller windows`,
      });
    }
    if (error.status === 401 || error.status === 403) {
      return ApplicationFailure.create({
        type: FailureType.AuthFailed,
        nonRetryable: true,
        message: `Amplitude rejected the credentials (${where}${message ? `: ${message}` : ''}): invalid API key or wrong data region. Check api_key and secret_key, and that data_region ("Standard Server" or "EU Residency Server") is the region of the project.`,
      });
    }
    if (error.status === 429) {
      return ApplicationFailure.create({
        type: FailureType.RateLimited,
        message: `Amplitude rate limit (${where}${message ? `: ${message}` : ''}); retrying${error.retryAfterMs !== undefined ? ` after ${Math.ceil(error.retryAfterMs / 1000)} s as Retry-After asks` : ' with backoff'}`,
        nextRetryDelay: error.retryAfterMs,
        category: 'BENIGN',
      });
    }
    if (error.status >= 500 || error.status === 408) {
      return ApplicationFailure.create({
        type: FailureType.Unavailable,
        message: `Amplitude is unavailable (${where}${message ? `: ${message}` : ''}); retrying${error.retryAfterMs !== undefined ? ` after ${Math.ceil(error.retryAfterMs / 1000)} s as Retry-After asks` : ' with backoff'}`,
        nextRetryDelay: error.retryAfterMs,
      });
    }
    if (error.status === 404) {
      return ApplicationFailure.create({
        type: FailureType.BadRequest,
        nonRetryable: true,
        message: `Amplitude has no such endpoint (${where}${message ? `: ${message}` : ''}): check base_url, it must point at the API host (e.g. https://amplitude.com), not the web app.`,
      });
    }
    return ApplicationFailure.create({
      type: FailureType.BadRequest,
      nonRetryable: true,
      message: `Amplitude refused the request (${where}): ${message || 'no message'}. ${hintForBadRequest(error.endpoint, message)}`,
    });
  }
  const cause = error instanceof Error ? error : new Error(String(error));
  if (error instanceof AmplitudeTransportError && error.phase === 'connect') {
    return ApplicationFailure.create({
      type: FailureType.Unreachable,
      message: `${cause.message}; retrying with backoff`,
      cause,
    });
  }
  return ApplicationFailure.create({
    type: FailureType.Unavailable,
    message: `Amplitude request failed (${cause.message}); retrying with backoff`,
    cause,
  });
}
