// HTTP access to Amplitude: keep-alive pool, Basic auth, region host or base_url, typed errors.
import { Agent, type Dispatcher, request } from 'undici';
import { ConcurrencyLimit } from '../concurrency-limit.ts';
import {
  AmplitudeHttpError,
  AmplitudeTransportError,
  parseRetryAfter,
  requestFailurePhase,
  unreachableReason,
} from './errors.ts';
import { exportHourParam } from './time.ts';

export interface AmplitudeClientOptions {
  /** Region host or base_url, without a trailing slash. */
  baseUrl: string;
  apiKey: string;
  secretKey: string;
  dispatcher?: Dispatcher;
  /** How long Amplitude may take to start answering; exports of large windows are slow to start. */
  headersTimeoutMs?: number;
  /** Longest silence inside a response body before the call fails as stalled. */
  bodyTimeoutMs?: number;
  /** Dashboard REST and metadata calls in flight at once; Amplitude allows 5 per project. */
  dashboardConcurrency?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export type ExportResponse =
  | { found: false }
  | {
      found: true;
      body: AsyncIterable<Uint8Array> & { destroy(error?: Error): unknown };
      contentType?: string;
    };

const NO_DATA_TEXT = 'Raw data files were not found';
const ERROR_BODY_LIMIT = 2000;

export class AmplitudeClient {
  readonly baseUrl: string;
  readonly #authorization: string;
  readonly #dispatcher: Dispatcher;
  readonly #ownsDispatcher: boolean;
  readonly #dashboardLimit: ConcurrencyLimit;

  constructor(options: AmplitudeClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.#authorization = `Basic ${Buffer.from(`${options.apiKey}:${options.secretKey}`).toString('base64')}`;
    this.#dashboardLimit = new ConcurrencyLimit(options.dashboardConcurrency ?? 5);
    this.#ownsDispatcher = options.dispatcher === undefined;
    this.#dispatcher =
      options.dispatcher ??
      new Agent({
        connections: 16,
        keepAliveTimeout: 30_000,
        headersTimeout: options.headersTimeoutMs ?? 10 * 60_000,
        bodyTimeout: options.bodyTimeoutMs ?? 2 * 60_000,
      });
  }

  /** GET a Dashboard / metadata endpoint and return its parsed JSON. */
  async getJson(
    path: string,
    query: Record<string, string> = {},
    options: CallOptions = {},
  ): Promise<unknown> {
    const { response, text } = await this.#dashboardLimit.run(async () => {
      const response = await this.#get(path, query, options);
      return { response, text: await this.#readText(response, path) };
    });
    if (response.statusCode !== 200) throw this.#httpError(response, path, text);
    try {
      return JSON.parse(text);
    } catch {
      throw new AmplitudeTransportError(
        `${path} answered 200 with a body that is not JSON: ${text.slice(0, 200)}`,
      );
    }
  }

  /**
   * Opens an Export API download for upload hours [startHour, endHour], both inclusive.
   * `found: false` is Amplitude's 404 "Raw data files were not found" (no data, or not yet).
   */
  async openExport(
    startHourMs: number,
    endHourMs: number,
    options: CallOptions = {},
  ): Promise<ExportResponse> {
    const path = '/api/2/export';
    const response = await this.#get(
      path,
      { start: exportHourParam(startHourMs), end: exportHourParam(endHourMs) },
      options,
    );
    if (response.statusCode === 200) {
      const contentType = headerValue(response.headers['content-type']);
      return { found: true, body: response.body, ...(contentType ? { contentType } : {}) };
    }
    const text = await this.#readText(response, path);
    if (response.statusCode === 404 && text.includes(NO_DATA_TEXT)) return { found: false };
    throw this.#httpError(response, path, text);
  }

  /** The most Dashboard REST calls this client had in flight at once. */
  get dashboardPeakConcurrency(): number {
    return this.#dashboardLimit.peak;
  }

  async close(): Promise<void> {
    if (this.#ownsDispatcher) await this.#dispatcher.close();
  }

  async #get(
    path: string,
    query: Record<string, string>,
    options: CallOptions,
  ): Promise<Dispatcher.ResponseData> {
    const url = new URL(this.baseUrl + path);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    try {
      return await request(url, {
        method: 'GET',
        dispatcher: this.#dispatcher,
        headers: { authorization: this.#authorization, accept: '*/*', 'user-agent': 'amplitude-sync' },
        signal: options.signal ?? null,
      });
    } catch (error) {
      if (options.signal?.aborted) throw error;
      const unreachable = unreachableReason(error);
      const message = unreachable
        ? `cannot reach ${url.origin}: ${unreachable}`
        : `GET ${path} failed before Amplitude answered: ${(error as Error).message}`;
      throw new AmplitudeTransportError(message, { cause: error, phase: requestFailurePhase(error) });
    }
  }

  async #readText(response: Dispatcher.ResponseData, path: string): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      throw new AmplitudeTransportError(`reading the answer of ${path} failed: ${(error as Error).message}`, {
        cause: error,
        phase: 'body',
      });
    }
  }

  #httpError(response: Dispatcher.ResponseData, path: string, text: string): AmplitudeHttpError {
    const retryAfter = parseRetryAfter(headerValue(response.headers['retry-after']), Date.now());
    return new AmplitudeHttpError(response.statusCode, path, text.slice(0, ERROR_BODY_LIMIT), retryAfter);
  }
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
