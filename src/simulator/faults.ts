export type Endpoint =
  | 'export'
  | 'users'
  | 'sessions'
  | 'segmentation'
  | 'annotations'
  | 'cohorts'
  | 'events_list';

export type FaultKind =
  /** 429 (with Retry-After when retryAfterSeconds is set) */
  | 'rate_limit'
  /** `status` (default 500) */
  | 'server_error'
  /** 504 with a gateway's HTML page */
  | 'gateway_timeout'
  /** export only: the 400 Amplitude sends for an export over 4 GB */
  | 'too_large'
  /** 404 'Raw data files were not found.' although data exists: the transient 404 */
  | 'not_found'
  /** the connection is closed before any response byte (a reset before the first byte) */
  | 'reset'
  /** 200 with an HTML body instead of the expected ZIP or JSON */
  | 'non_zip'
  /** 200 whose body is cut off by destroying the socket after `afterBytes` bytes */
  | 'truncated'
  /** 200 whose body ends cleanly after `afterBytes` bytes (the response completes, the content is incomplete) */
  | 'short_body'
  /** export only: 200 with a valid ZIP whose first gzip member has corrupted bytes */
  | 'corrupt_member'
  /** headers (and optionally `afterBytes` of body, or the members of the first `afterHours` hours) sent, then nothing until the client goes away */
  | 'stall';

export interface FaultRule {
  endpoint: Endpoint | 'any';
  /** Export only: fire when the request's hour range overlaps this range (both ends inclusive, ms of the first and last hour). */
  when?: { hours?: { start: number; end: number } };
  kind: FaultKind;
  status?: number;
  /** 429: send Retry-After when set. */
  retryAfterSeconds?: number;
  /** How many matching requests it fires for before disappearing. Default 1. */
  times?: number;
  /**
   * Fires for every matching request while the simulated clock is before this instant (epoch ms),
   * then disappears: "404 for days, then the data appeared". `times` is ignored.
   */
  until?: number;
  afterBytes?: number;
  /** stall, export only: stream the complete members of the first `afterHours` upload hours, then stall. */
  afterHours?: number;
}

export interface FaultInjector {
  add(rule: FaultRule): void;
  clear(): void;
  pending(): FaultRule[];
}

export interface FaultCandidate {
  endpoint: Endpoint;
  /** Parsed export range (ms of the first and last hour), when the request is an export with valid parameters. */
  exportHours?: { start: number; end: number };
  /** Whether the response is about to be a 200 with a body (body-shaping faults only apply then). */
  successful: boolean;
}

/** Faults that replace the response; the others shape a successful response's body. */
const STATUS_FAULTS = new Set<FaultKind>([
  'rate_limit',
  'server_error',
  'gateway_timeout',
  'too_large',
  'not_found',
  'reset',
  'non_zip',
]);
const EXPORT_ONLY_FAULTS = new Set<FaultKind>(['too_large', 'corrupt_member']);

export function isStatusFault(kind: FaultKind): boolean {
  return STATUS_FAULTS.has(kind);
}

function matches(rule: FaultRule, request: FaultCandidate): boolean {
  if (rule.endpoint !== 'any' && rule.endpoint !== request.endpoint) return false;
  if (EXPORT_ONLY_FAULTS.has(rule.kind) && request.endpoint !== 'export') return false;
  if (rule.afterHours !== undefined && request.endpoint !== 'export') return false;
  if (!STATUS_FAULTS.has(rule.kind) && !request.successful) return false;
  const hours = rule.when?.hours;
  if (hours) {
    const requested = request.exportHours;
    if (!requested) return false;
    if (requested.start > hours.end || hours.start > requested.end) return false;
  }
  return true;
}

/** Rules are tried in the order they were added; the first match fires and loses one of its `times`. */
export class FaultQueue implements FaultInjector {
  private rules: { rule: FaultRule; remaining: number }[] = [];

  add(rule: FaultRule): void {
    const times = rule.times ?? 1;
    if (!Number.isInteger(times) || times < 1)
      throw new RangeError(`fault times must be a positive integer, got ${times}`);
    this.rules.push({ rule: { ...rule }, remaining: times });
  }

  clear(): void {
    this.rules = [];
  }

  pending(): FaultRule[] {
    return this.rules.map(({ rule, remaining }) => ({ ...rule, times: remaining }));
  }

  /** Consumes and returns the first rule matching `request` at simulated time `now`, if any. */
  take(request: FaultCandidate, now: number): FaultRule | undefined {
    this.rules = this.rules.filter(({ rule }) => rule.until === undefined || now < rule.until);
    const index = this.rules.findIndex(({ rule }) => matches(rule, request));
    if (index < 0) return undefined;
    const entry = this.rules[index]!;
    if (entry.rule.until !== undefined) return entry.rule;
    entry.remaining--;
    if (entry.remaining === 0) this.rules.splice(index, 1);
    return entry.rule;
  }
}
