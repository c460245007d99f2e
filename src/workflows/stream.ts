// One stream of one sync: plans its slices, runs them as activities, moves its watermark only over
// contiguous completed slices, and continues as new when the history grows long.
import {
  ApplicationFailure,
  continueAsNew,
  defineQuery,
  isCancellation,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { FailureType } from '../amplitude/errors.ts';
import { STREAMS } from '../amplitude/streams.ts';
import { contiguousEnd, mergeSpans, type Span } from './plan.ts';
import { addNote, applicationCause, rootMessage } from './plans/common.ts';
import { dashboardPlan, snapshotPlan } from './plans/dashboard.ts';
import { exportPlan } from './plans/export.ts';
import { runSlices, type SliceRun } from './slices.ts';
import { DEFAULT_TUNING, type StreamInput, type StreamSummary } from './types.ts';

export { rootMessage };

export const progressQuery = defineQuery<StreamProgress>('progress');

export interface StreamProgress extends StreamSummary {
  slicesPending: number;
  /** The watermark as it stands now. */
  watermark?: string;
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
  const pending = input.carried ? spansOf(input.carried.pending).flatMap(plan.cut) : plan.initial;
  const completed = spansOf(input.carried?.completed ?? []);

  let live: Readonly<SliceRun> = { pending, completed, failures: [], paused: false };
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
  let run: SliceRun;
  try {
    run = await runSlices({
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
  } catch (error) {
    if (!isCancellation(error)) throw error;
    // Cancelled: it reports how far it got (a cancellation could not carry it), so nothing is read twice.
    const mark = watermark().watermark;
    if (mark) summary.completeBefore = mark;
    summary.status = 'cancelled';
    addNote(summary, 'cancelled on request; the slices under way were stopped, nothing partial is kept');
    return summary;
  }
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
        summary,
      },
    });
  }
  summary.status = 'complete';
  setCurrentDetails(details(progress()));
  return summary;
}

const spansOf = (pairs: Array<[number, number]>): Span[] => pairs.map(([start, end]) => ({ start, end }));
const pairsOf = (spans: Span[]): Array<[number, number]> => spans.map((span) => [span.start, span.end]);
