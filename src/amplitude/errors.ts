// The one error mapping: what an Amplitude response means, and the Temporal failure it becomes.
// Workflow code imports the failure type names from here, so this module stays free of Node built-ins.
import { ApplicationFailure } from '@temporalio/common';

export const FailureType = {
  /** 401/403: bad key or wrong data region. Never retried. */
  AuthFailed: 'AmplitudeAuthFailed',
  /** 429: retried, after Retry-After when Amplitude sends one. */
  RateLimited: 'AmplitudeRateLimited',
  /** 400 on a Dashboard endpoint, or a 404 that is not "no data": the request itself is wrong. Never retried. */
  BadRequest: 'AmplitudeBadRequest',
  /** 400/504 on export: the window is too big or too slow; the workflow splits it. Not retried as is. */
  ExportWindowTooLarge: 'AmplitudeExportWindowTooLarge',
  /** One export hour still too large: only Amplitude's S3/GCS export can deliver it. Never retried. */
  ExportHourTooLarge: 'AmplitudeExportHourTooLarge',
  /** 5xx, resets, stalls, truncated or non-zip bodies: transient, retried with backoff. */
  Unavailable: 'AmplitudeUnavailable',
  /** A recent export hour answered 404: its data may not be there yet. Retried a bounded number of times. */
  ExportNotYetAvailable: 'AmplitudeExportNotYetAvailable',
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
    super(`Amplitude answered HTTP ${status} on ${endpoint}${body ? `: ${body}` : ''}`);
  }
}

/** The connection failed, stalled or delivered a body that is not what a 200 promises. */
export class AmplitudeTransportError extends Error {
  override name = 'AmplitudeTransportError';
}

/** `Retry-After` as seconds or an HTTP date, in milliseconds from `now`. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Amplitude's JSON error envelope `{"error":{"message","metadata":{"details"}}}`, or the text as sent. */
export function amplitudeMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: string; metadata?: { details?: string } } };
    const { message, metadata } = parsed.error ?? {};
    if (message) return metadata?.details ? `${message}: ${metadata.details}` : message;
  } catch {
    // not JSON: the text is the message
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

function classify(error: unknown): ApplicationFailure {
  if (error instanceof AmplitudeHttpError) {
    const message = amplitudeMessage(error.body);
    const where = `HTTP ${error.status} on ${error.endpoint}`;
    if (error.endpoint === '/api/2/export' && (error.status === 400 || error.status === 504)) {
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
  return ApplicationFailure.create({
    type: FailureType.Unavailable,
    message: `Amplitude request failed (${cause.message}); retrying with backoff`,
    cause,
  });
}
