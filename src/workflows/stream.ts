// One stream of one sync: plans its slices, runs them as activities, moves its watermark only over
// contiguous completed slices, and continues as new when the history grows long.
import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { DashboardStream } from '../activities/dashboard.ts';
import type { Activities } from '../activities/index.ts';
import { FailureType } from '../amplitude/errors.ts';
import type { SnapshotStream } from '../amplitude/records.ts';
import { STREAMS } from '../amplitude/streams.ts';
import {
  calendarDayIn,
  floorToDay,
  HOUR_MS,
  isoDate,
  isoHour,
  isoInstant,
  parseIsoDate,
} from '../amplitude/time.ts';
import {
  contiguousEnd,
  dashboardRange,
  exportRange,
  exportWindows,
  hoursIn,
  monthSlices,
  type Span,
  splitWindow,
} from './plan.ts';
import { mergeSpans, runSlices, type SliceOutcome, type SliceRun } from './slices.ts';
import { DEFAULT_TUNING, type StreamInput, type StreamSummary, type Tuning } from './types.ts';

export const progressQuery = defineQuery<StreamProgress>('progress');

export interface StreamProgress extends StreamSummary {
  slicesPending: number;
  /** The watermark as it stands now. */
  watermark?: string;
}

interface StreamPlan {
  /** What this sync covers; the watermark moves from range.start over contiguous completed slices. */
  range: Span;
  /** The slices of a span (export windows, months, the snapshot). */
  cut(span: Span): Span[];
  run(span: Span): Promise<SliceOutcome>;
  /** The state cursor for a watermark at `end` (epoch ms). */
  cursor(end: number): string;
  /** The stored cursor as epoch ms. */
  parseCursor(cursor: string): number;
}

function activities(tuning: Tuning) {
  const retry = {
    initialInterval: tuning.retryInitialIntervalMs,
    backoffCoefficient: 2,
    maximumInterval: '5 minutes',
    maximumAttempts: tuning.maximumAttempts,
  };
  return {
    exporting: proxyActivities<Activities>({
      startToCloseTimeout: '12 hours',
      heartbeatTimeout: tuning.exportHeartbeatTimeoutMs,
      retry,
    }),
    dashboard: proxyActivities<Activities>({ startToCloseTimeout: '10 minutes', retry }),
  };
}

/** The innermost message of a failure chain: what actually went wrong. */
export function rootMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  while (current?.cause && (current.cause as { message?: string }).message) {
    current = current.cause as typeof current;
  }
  return current?.message ?? String(error);
}

const MAX_NOTES = 30;

/** Remarks for the summary; a long sync keeps the first ones, so the history stays small. */
function addNote(summary: StreamSummary, note: string): void {
  if (summary.notes.length < MAX_NOTES) summary.notes.push(note);
  else if (summary.notes.length === MAX_NOTES) summary.notes.push('(more remarks omitted)');
}

function countWritten(summary: StreamSummary, records: number, partitions: number, bytes: number): void {
  summary.records += records;
  summary.partitions += partitions;
  summary.bytes += bytes;
}

function applicationCause(error: unknown): ApplicationFailure | undefined {
  if (error instanceof ActivityFailure && error.cause instanceof ApplicationFailure) return error.cause;
  return error instanceof ApplicationFailure ? error : undefined;
}

function exportPlan(
  input: StreamInput,
  tuning: Tuning,
  plannedAt: number,
  summary: StreamSummary,
): StreamPlan {
  const { settings } = input;
  const { exporting } = activities(tuning);
  const range = exportRange({
    startDate: Date.parse(settings.startDate),
    ...(input.state ? { completeBefore: Date.parse(input.state.completeBefore) } : {}),
    lookbackHours: settings.exportLookbackHours,
    closeBefore: plannedAt - settings.exportAvailabilityLagHours * HOUR_MS,
    windowHours: settings.requestTimeRangeHours,
  });
  return {
    range,
    cut: (span) => exportWindows(span, settings.requestTimeRangeHours),
    cursor: isoInstant,
    parseCursor: Date.parse,
    async run(window) {
      const name = `${isoHour(window.start)}..${isoHour(window.end - HOUR_MS)}`;
      try {
        const result = await exporting.exportWindow.executeWithOptions(
          { summary: `events ${name} (${hoursIn(window)} h)` },
          [
            {
              runKey: input.runKey,
              destination: settings.destination,
              start: isoHour(window.start),
              end: isoHour(window.end),
              recentAfter: plannedAt - tuning.recentNotFoundHours * HOUR_MS,
              notFoundAttempts: tuning.notFoundAttempts,
              notFoundRetryDelayMs: tuning.notFoundRetryDelayMs,
            },
          ],
        );
        countWritten(summary, result.records, result.partitions, result.bytes);
        if (result.outsideWindow > 0) {
          addNote(
            summary,
            `${name}: Amplitude sent ${result.outsideWindow} events of other hours; they are read with their own hours`,
          );
        }
        if (result.status === 'not_yet_available') {
          addNote(
            summary,
            `${name}: Amplitude answered 404 for this recent window; its hours stay open for the next sync`,
          );
          return { kind: 'open' };
        }
        return { kind: 'done' };
      } catch (error) {
        const cause = applicationCause(error);
        if (cause?.type !== FailureType.ExportWindowTooLarge)
          return { kind: 'failed', failure: error as Error };
        if (hoursIn(window) >= 2) {
          summary.splits++;
          return { kind: 'split', parts: splitWindow(window) };
        }
        return {
          kind: 'failed',
          failure: ApplicationFailure.create({
            type: FailureType.ExportHourTooLarge,
            nonRetryable: true,
            message:
              `Amplitude cannot export the single hour ${isoHour(window.start)} (${cause.message}). ` +
              "An hour this large can only be delivered by Amplitude's Amazon S3 or Google Cloud Storage export: " +
              'set one up for this project (https://amplitude.com/docs/data/destination-catalog/amazon-s3) and load this hour from it. ' +
              `The events watermark stays before ${isoHour(window.start)}.`,
          }),
        };
      }
    },
  };
}

function dashboardPlan(
  input: StreamInput,
  tuning: Tuning,
  plannedAt: number,
  summary: StreamSummary,
): StreamPlan {
  const { settings } = input;
  const { dashboard } = activities(tuning);
  const stream = input.stream as DashboardStream;
  const range = dashboardRange({
    startDay: floorToDay(Date.parse(settings.startDate)),
    ...(input.state ? { completeBefore: parseIsoDate(input.state.completeBefore)! } : {}),
    lookbackDays: tuning.dashboardLookbackDays,
    firstIncompleteDay: calendarDayIn(plannedAt, settings.projectTimezone),
  });
  return {
    range,
    cut: monthSlices,
    cursor: isoDate,
    parseCursor: (cursor) => parseIsoDate(cursor)!,
    async run(slice) {
      const last = isoDate(slice.end - 24 * HOUR_MS);
      try {
        const result = await dashboard.fetchDashboardSlice.executeWithOptions(
          { summary: `${stream} ${isoDate(slice.start)}..${last}` },
          [
            {
              runKey: input.runKey,
              destination: settings.destination,
              stream,
              start: isoDate(slice.start),
              end: isoDate(slice.end),
              groupByCountry: settings.activeUsersGroupByCountry,
            },
          ],
        );
        countWritten(summary, result.records, 1, result.bytes);
        if (result.missingDays)
          addNote(summary, `Amplitude returned no value for ${result.missingDays.join(', ')}`);
        return { kind: 'done' };
      } catch (error) {
        return { kind: 'failed', failure: error as Error };
      }
    },
  };
}

function snapshotPlan(
  input: StreamInput,
  tuning: Tuning,
  plannedAt: number,
  summary: StreamSummary,
): StreamPlan {
  const { dashboard } = activities(tuning);
  return {
    range: { start: plannedAt, end: plannedAt + 1 },
    cut: (span) => [span],
    cursor: isoInstant,
    parseCursor: Date.parse,
    async run() {
      try {
        const result = await dashboard.fetchSnapshot.executeWithOptions(
          { summary: `${input.stream} snapshot` },
          [
            {
              runKey: input.runKey,
              destination: input.settings.destination,
              stream: input.stream as SnapshotStream,
            },
          ],
        );
        countWritten(summary, result.records, 1, result.bytes);
        return { kind: 'done' };
      } catch (error) {
        return { kind: 'failed', failure: error as Error };
      }
    },
  };
}

const PLANS = { export: exportPlan, dashboard: dashboardPlan, snapshot: snapshotPlan };

function details(progress: StreamProgress): string {
  return [
    `**${progress.stream}**: ${progress.status}`,
    `- watermark: ${progress.watermark ?? '(none yet)'}`,
    `- slices done: ${progress.slices}, pending: ${progress.slicesPending}, windows split: ${progress.splits}`,
    `- records: ${progress.records}, partitions: ${progress.partitions}, bytes: ${progress.bytes}`,
    ...progress.notes.slice(-5).map((note) => `- ${note}`),
  ].join('\n');
}

export async function streamSync(input: StreamInput): Promise<StreamSummary> {
  const tuning = { ...DEFAULT_TUNING, ...input.settings.tuning };
  const kind = STREAMS[input.stream].kind;
  const plannedAt = input.carried?.plannedAt ?? Date.now();
  const summary: StreamSummary = input.carried?.summary ?? {
    stream: input.stream,
    status: 'incomplete',
    ...(input.state ? { completeBefore: input.state.completeBefore } : {}),
    records: 0,
    partitions: 0,
    bytes: 0,
    slices: 0,
    splits: 0,
    notes: [],
  };
  const plan = PLANS[kind](input, tuning, plannedAt, summary);
  const rangeStart = input.carried?.rangeStart ?? plan.range.start;
  const pending = input.carried ? spansOf(input.carried.pending).flatMap(plan.cut) : plan.cut(plan.range);
  const completed = spansOf(input.carried?.completed ?? []);
  const openBefore = spansOf(input.carried?.open ?? []);

  let live: Readonly<SliceRun> = { pending, completed, open: [], failures: [], paused: false };
  const progress = (): StreamProgress => ({ ...summary, slicesPending: live.pending.length, ...watermark() });
  const watermark = () => {
    if (kind === 'snapshot') return {};
    const end = contiguousEnd(rangeStart, live.completed);
    const previous = input.state ? plan.parseCursor(input.state.completeBefore) : undefined;
    const best = previous === undefined ? end : Math.max(previous, end);
    return best > rangeStart || previous !== undefined ? { watermark: plan.cursor(best) } : {};
  };
  setHandler(progressQuery, progress);

  const shouldPause = () => {
    const info = workflowInfo();
    return (
      info.continueAsNewSuggested ||
      (tuning.continueAsNewAfterEvents !== undefined && info.historyLength >= tuning.continueAsNewAfterEvents)
    );
  };
  const run = await runSlices({
    pending,
    completed,
    concurrency: kind === 'export' ? tuning.exportConcurrency : tuning.dashboardConcurrency,
    shouldPause,
    run: async (span) => {
      const outcome = await plan.run(span);
      if (outcome.kind === 'done') summary.slices++;
      return outcome;
    },
    onProgress: (state) => {
      live = state;
      setCurrentDetails(details(progress()));
    },
  });
  live = run;

  const mark = watermark().watermark;
  if (mark) summary.completeBefore = mark;
  if (run.failures.length > 0) {
    summary.status = 'failed';
    const messages = run.failures.map(({ failure }) => rootMessage(failure));
    for (const message of messages) addNote(summary, message);
    setCurrentDetails(details(progress()));
    const first = applicationCause(run.failures[0]!.failure);
    throw ApplicationFailure.create({
      type: first?.type === FailureType.ExportHourTooLarge ? FailureType.ExportHourTooLarge : 'StreamFailed',
      nonRetryable: true,
      message: messages[0]!.startsWith(input.stream) ? messages[0]! : `${input.stream}: ${messages[0]}`,
      details: [summary],
    });
  }
  if (run.paused) {
    // Carried compactly: merged spans, cut into slices again by the next run.
    return await continueAsNew<typeof streamSync>({
      ...input,
      carried: {
        plannedAt,
        rangeStart,
        pending: pairsOf(mergeSpans(run.pending)),
        completed: pairsOf(run.completed),
        open: pairsOf(mergeSpans([...openBefore, ...run.open])),
        summary,
      },
    });
  }
  summary.status = openBefore.length > 0 || run.open.length > 0 ? 'incomplete' : 'complete';
  setCurrentDetails(details(progress()));
  return summary;
}

const spansOf = (pairs: Array<[number, number]>): Span[] => pairs.map(([start, end]) => ({ start, end }));
const pairsOf = (spans: Span[]): Array<[number, number]> => spans.map((span) => [span.start, span.end]);
